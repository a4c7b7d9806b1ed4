/**
 * Which wasm build a runtime really loaded, read from the file this worker fetched (Resource Timing), not derived
 * from the settings that chose it. ORT and tfjs each fetch exactly one .wasm, chosen by their own rules (ORT: one
 * per entry point; tfjs: plain, SIMD or threaded SIMD from its feature flags), and the file is the build.
 */

/** A known wasm file: its name as the package ships it, and what that build is. */
export interface WasmBuild {
  name: string;
  simd: boolean;
  threaded: boolean;
}

/** The wasm files of onnxruntime-web 1.30: every one is a SIMD, threads-capable build (ORT ships no other). */
export const ORT_WASM_BUILDS: readonly WasmBuild[] = [
  'ort-wasm-simd-threaded.wasm',
  'ort-wasm-simd-threaded.jsep.wasm',
  'ort-wasm-simd-threaded.asyncify.wasm',
  'ort-wasm-simd-threaded.jspi.wasm',
].map((name) => ({ name, simd: true, threaded: true }));

/** tfjs-backend-wasm 4.22's three builds. */
export const TFJS_WASM_BUILDS: readonly WasmBuild[] = [
  { name: 'tfjs-backend-wasm.wasm', simd: false, threaded: false },
  { name: 'tfjs-backend-wasm-simd.wasm', simd: true, threaded: false },
  { name: 'tfjs-backend-wasm-threaded-simd.wasm', simd: true, threaded: true },
];

/**
 * The build a served file name is, or null. The production build adds an 8-character content hash before the
 * extension (`tfjs-backend-wasm-simd-BrM3BlWr.wasm`); the dev server serves the plain name. Longer names are tried
 * first, so a hash can't make a longer build's name read as a shorter one's.
 */
export function buildOfFile(file: string, builds: readonly WasmBuild[]): WasmBuild | null {
  const sorted = [...builds].sort((a, b) => b.name.length - a.name.length);
  for (const b of sorted) {
    const base = b.name.slice(0, -'.wasm'.length).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    if (new RegExp(`^${base}(-[A-Za-z0-9_-]{8})?\\.wasm$`).test(file)) return b;
  }
  return null;
}

/** A fetched wasm file that is one of `builds`: its served name and the build it is. */
export interface FetchedWasm {
  file: string;
  build: WasmBuild;
}

/**
 * The wasm of `builds` this worker fetched (Resource Timing), or null when it fetched none (ORT's WebGL backend,
 * tfjs without its wasm backend). More than one would mean two builds were loaded: that is said, not guessed.
 */
export function fetchedWasm(
  builds: readonly WasmBuild[],
  entries: readonly PerformanceEntry[] = performance.getEntriesByType('resource'),
): FetchedWasm | null {
  const found: FetchedWasm[] = [];
  for (const e of entries) {
    const url = new URL(e.name);
    // The dev server answers each `?url` import with a small module naming the file: not the wasm itself.
    if (url.searchParams.has('url')) continue;
    const file = decodeURIComponent(url.pathname.split('/').pop() ?? '');
    const build = buildOfFile(file, builds);
    if (build) found.push({ file, build });
  }
  const names = new Set(found.map((f) => f.build.name));
  if (names.size > 1) throw new Error(`this worker fetched more than one runtime wasm build: ${[...names].join(', ')}`);
  return found[0] ?? null;
}

/**
 * @litertjs/core 2.5.3's four builds. `compat` is the one LiteRT picks where the browser lacks relaxed SIMD (whether
 * it uses plain SIMD is not recorded here: null in the proof); the other three need relaxed SIMD.
 */
export const LITERT_WASM_BUILDS: readonly WasmBuild[] = [
  { name: 'litert_wasm_compat_internal.wasm', simd: false, threaded: false },
  { name: 'litert_wasm_internal.wasm', simd: true, threaded: false },
  { name: 'litert_wasm_threaded_internal.wasm', simd: true, threaded: true },
  { name: 'litert_wasm_jspi_internal.wasm', simd: true, threaded: false },
];
