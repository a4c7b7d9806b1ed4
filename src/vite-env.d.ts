/// <reference types="vite/client" />
/** Versions of the runtimes and libraries, read from package.json at build time (vite.config.ts). */
declare const __LIB_VERSIONS__: Record<string, string>;
/** The lab's own version. */
declare const __LAB_VERSION__: string;
