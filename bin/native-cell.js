// A native reference cell's worker thread: TypeScript through tsx's loader, as the CLI itself runs.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/native/cell-thread.ts');
