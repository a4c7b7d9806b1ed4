/**
 * The code to ship a verdict's pick, generated from what actually ran (the cell's proof: the import/build, the
 * execution provider or backend in use, the threads) and its cell (inputs, image policy, variant): an ES module an
 * app can paste. It serves every file itself (wasmPaths / setWasmPaths point at the app's own folder), as the lab
 * does. Pure; the page shows it with a copy button and the reports carry it.
 */
import { ORT_BUILD_INFO, isOrtBuild } from '../builds.ts';
import type { ImagePolicy, OkCellResult, ValuePolicy } from '../schema.ts';
import { imageGeometry } from '../models/image-input.ts';

export interface ShipCodeOptions {
  /** Where the app serves the model file (ORT: the .onnx; TF.js: model.json). */
  modelUrl: string;
  /** The app's folder for the runtime's wasm files (trailing slash). */
  wasmBase?: string;
  /** Value policies the cell's inputs fall back to (the manifest's valueDefaults), for image inputs. */
  valueDefaults?: Record<string, ValuePolicy>;
  /**
   * Where the picked variant's file is to be had (the CLI's `<out>/variants/<file>`, the page's download button);
   * only said for a variant pick. Without it the code says where the lab keeps such files.
   */
  variantSource?: string;
}

export interface ShipCode {
  code: string;
  /** npm packages the code imports. */
  packages: string[];
  /** Files to copy into the app's wasm folder: [from (in node_modules), to]. */
  selfHost: { from: string; to: string }[];
}

const TYPED: Record<string, string> = {
  float32: 'Float32Array',
  float16: 'Uint16Array /* float16 bits */',
  int32: 'Int32Array',
  int64: 'BigInt64Array',
  uint8: 'Uint8Array',
  int8: 'Int8Array',
  bool: 'Uint8Array',
};

const str = (s: string) => JSON.stringify(s);

/** Said when the pick is a variant the lab made: the app ships that file, not the model as given, and where it is. */
function variantNote(r: OkCellResult, options: ShipCodeOptions): string[] {
  if (r.cell.variant === 'fp32') return [];
  const source =
    options.variantSource ??
    "the page's download button under What to ship, or a CLI run's <out>/variants/ folder (docs/variants.md)";
  return [
    `// The model: made by the lab from ${r.cell.modelId} (its ${r.cell.variant} variant, not the original file): ${source}.`,
    `// Serve that file at ${options.modelUrl}.`,
  ];
}

function imagePolicyOf(r: OkCellResult, name: string, defaults: ShipCodeOptions['valueDefaults']): ImagePolicy | null {
  const p = r.cell.inputOverrides[name]?.values ?? defaults?.[name];
  return p?.kind === 'image' ? p : null;
}

/** The picture-to-tensor function for one image input, matching the lab's preprocess (src/worker/preprocess.ts). */
function imageFunction(input: OkCellResult['inputs'][number], p: ImagePolicy): string[] {
  const g = imageGeometry({ name: input.name, dtype: input.dtype, shape: input.shape }, input.shape, p);
  const batch = input.shape[0] ?? 1;
  const array = TYPED[input.dtype]!.split(' ')[0]!;
  const raw = input.dtype === 'uint8' || input.dtype === 'int8';
  const value = raw
    ? `Math.round(pixel)${input.dtype === 'int8' ? ' - 128' : ''}`
    : `(pixel / 255 - MEAN_${safe(input.name)}[c]) / STD_${safe(input.name)}[c]${input.dtype === 'float16' ? ' /* store as float16 bits */' : ''}`;
  const pixel =
    g.channels === 1
      ? '0.299 * rgba[i * 4] + 0.587 * rgba[i * 4 + 1] + 0.114 * rgba[i * 4 + 2]'
      : `rgba[i * 4 + ${p.order === 'BGR' ? '2 - c' : 'c'}]`;
  const at = g.layout === 'NHWC' ? `base + i * ${g.channels} + c` : `base + c * ${g.height * g.width} + i`;
  return [
    `// '${input.name}': ${batch} picture(s) -> ${input.dtype} [${input.shape.join(', ')}] ${g.layout}, fit '${p.fit}', ${p.order}${raw ? ', raw pixels' : `, (pixel / 255 - mean) / std`}`,
    `const MEAN_${safe(input.name)} = [${p.mean.join(', ')}];`,
    `const STD_${safe(input.name)} = [${p.std.join(', ')}];`,
    `export async function pictures_${safe(input.name)}(blobs /* ${batch} Blob(s) or ImageBitmap source(s) */) {`,
    `  const W = ${g.width}, H = ${g.height};`,
    `  const canvas = new OffscreenCanvas(W, H);`,
    `  const ctx = canvas.getContext('2d', { willReadFrequently: true });`,
    `  const data = new ${array}(${batch * g.channels * g.width * g.height});`,
    `  for (let item = 0; item < ${batch}; item++) {`,
    `    const bitmap = await createImageBitmap(blobs[item % blobs.length], { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });`,
    `    const [sx, sy, sw, sh, dx, dy, dw, dh] = fitRect(bitmap.width, bitmap.height, W, H, ${str(p.fit)});`,
    `    ctx.clearRect(0, 0, W, H);`,
    `    ctx.drawImage(bitmap, sx, sy, sw, sh, dx, dy, dw, dh);`,
    `    bitmap.close();`,
    `    const rgba = ctx.getImageData(0, 0, W, H).data;`,
    `    const base = item * ${g.channels * g.width * g.height};`,
    `    for (let i = 0; i < W * H; i++)`,
    `      for (let c = 0; c < ${g.channels}; c++) {`,
    `        const pixel = ${pixel};`,
    `        data[${at}] = ${value};`,
    `      }`,
    `  }`,
    `  return data;`,
    `}`,
  ];
}

const safe = (name: string) => name.replace(/[^A-Za-z0-9_$]/g, '_');

const FIT_RECT = [
  `// As CSS object-fit: fill stretches, cover scales and centre-crops, contain scales and pads with black.`,
  `function fitRect(w, h, W, H, fit) {`,
  `  if (fit === 'fill') return [0, 0, w, h, 0, 0, W, H];`,
  `  const s = fit === 'cover' ? Math.max(W / w, H / h) : Math.min(W / w, H / h);`,
  `  if (fit === 'cover') return [(w - W / s) / 2, (h - H / s) / 2, W / s, H / s, 0, 0, W, H];`,
  `  return [0, 0, w, h, (W - w * s) / 2, (H - h * s) / 2, w * s, h * s];`,
  `}`,
];

/** The comment that says what each input takes, and the image functions. */
function inputSection(r: OkCellResult, options: ShipCodeOptions): string[] {
  const out: string[] = [];
  for (const i of r.inputs) {
    const p = imagePolicyOf(r, i.name, options.valueDefaults);
    if (p) out.push('', ...imageFunction(i, p));
  }
  return out.length ? [...out, '', ...FIT_RECT] : out;
}

/** The picture functions, then run()'s comment: each input's typed array and shape, and the outputs it returns. */
function runDoc(r: OkCellResult, options: ShipCodeOptions): string[] {
  const outputs = r.outputs.map((o) => `${o.name}: ${o.dtype} [${o.shape.join(', ')}]`).join('; ');
  return [
    ...inputSection(r, options),
    '',
    `/**`,
    ` * One inference. Inputs (batch ${r.cell.batch}):`,
    inputDoc(r),
    ...usage(r, options),
    ` * Returns the outputs by name${outputs ? ` (${outputs})` : ''}, each with .data and .dims.`,
    ` */`,
  ];
}

function inputDoc(r: OkCellResult): string {
  return r.inputs
    .map(
      (i) =>
        ` *   ${str(i.name)}: ${TYPED[i.dtype] ?? i.dtype} of ${i.shape.reduce((a, b) => a * b, 1)} values, shape [${i.shape.join(', ')}]`,
    )
    .join('\n');
}

/** For picture inputs: how the picture function feeds run(). */
function usage(r: OkCellResult, options: ShipCodeOptions): string[] {
  const images = r.inputs.filter((i) => imagePolicyOf(r, i.name, options.valueDefaults));
  if (!images.length) return [];
  const feeds = images.map((i) => `${str(i.name)}: await pictures_${safe(i.name)}([blob])`).join(', ');
  return [` * From pictures (as the lab made them): run({ ${feeds} })`];
}

function ortCode(r: OkCellResult, options: ShipCodeOptions): ShipCode {
  const build = String(r.proof.details['build'] ?? r.cell.build ?? 'wasm');
  const info = isOrtBuild(build) ? ORT_BUILD_INFO[build] : ORT_BUILD_INFO.wasm;
  const base = options.wasmBase ?? './ort/';
  const backend = r.proof.backendInUse;
  const env: string[] = [];
  // With a folder as wasmPaths ORT loads both its .mjs glue and its .wasm from there (the bundled builds too).
  const files = info.wasm ? [info.wasm.replace(/\.wasm$/, '.mjs'), info.wasm] : [];
  if (files.length) {
    env.push(
      `// Served by the app itself: copy ${files.map((f) => `node_modules/onnxruntime-web/dist/${f}`).join(' and ')} to ${base}`,
    );
    env.push(`// (a relative folder is taken from the page's URL here; ORT alone would take it from its own bundle's)`);
    env.push(`ort.env.wasm.wasmPaths = new URL(${str(base)}, location.href).href;`);
  }
  if (backend === 'wasm') {
    env.push(
      `ort.env.wasm.numThreads = ${r.proof.threads};${r.proof.threads > 1 ? ' // needs cross-origin isolation (COOP + COEP headers); without it ORT runs 1' : ''}`,
    );
    if (r.proof.simd === false) env.push('// the lab ran a build without SIMD here');
  }
  const gpu =
    backend === 'webgpu'
      ? `\n  preferredOutputLocation: 'cpu', // the lab kept outputs on the GPU and read them back apart`
      : '';
  const code = [
    `import * as ort from ${str(info.entry)}; // ${r.proof.runtime} ${r.proof.runtimeVersion}: ${info.about}`,
    '',
    ...env,
    '',
    ...variantNote(r, options),
    `const session = await ort.InferenceSession.create(${str(options.modelUrl)}, {`,
    `  executionProviders: [${str(backend)}],`,
    `  graphOptimizationLevel: 'all',${gpu}`,
    `});`,
    ...runDoc(r, options),
    `export async function run(inputs) {`,
    `  const feeds = {`,
    ...r.inputs.map(
      (i) => `    ${str(i.name)}: new ort.Tensor(${str(i.dtype)}, inputs[${str(i.name)}], [${i.shape.join(', ')}]),`,
    ),
    `  };`,
    `  return session.run(feeds);`,
    `}`,
  ];
  return {
    code: code.join('\n') + '\n',
    packages: [`onnxruntime-web@${r.proof.runtimeVersion}`],
    selfHost: files.map((f) => ({ from: `node_modules/onnxruntime-web/dist/${f}`, to: `${base}${f}` })),
  };
}

const TFJS_WASM = ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm'];

function tfjsCode(r: OkCellResult, options: ShipCodeOptions): ShipCode {
  const backend = r.proof.backendInUse;
  const base = options.wasmBase ?? './tfjs/';
  const graph = (r.proof.details['modelKind'] ?? (r.cell.format === 'tfjs-layers' ? 'layers' : 'graph')) !== 'layers';
  const head = [`import * as tf from '@tensorflow/tfjs'; // ${r.proof.runtimeVersion}`];
  const packages = [`@tensorflow/tfjs@${r.proof.runtimeVersion}`];
  const setup: string[] = [];
  if (backend === 'wasm') {
    const names = r.proof.threads > 1 ? 'setThreadsCount, setWasmPaths' : 'setWasmPaths';
    head.push(`import { ${names} } from '@tensorflow/tfjs-backend-wasm';`);
    packages.push('@tensorflow/tfjs-backend-wasm');
    setup.push(`// Served by the app itself: copy node_modules/@tensorflow/tfjs-backend-wasm/dist/*.wasm to ${base}`);
    setup.push(`setWasmPaths(new URL(${str(base)}, location.href).href); // relative to the page's URL`);
    if (r.proof.threads > 1)
      setup.push(`setThreadsCount(${r.proof.threads}); // the threaded SIMD build: needs cross-origin isolation`);
    else setup.push(`tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false); // the lab ran the 1-thread SIMD build`);
  }
  if (backend === 'webgpu') {
    head.push(`import '@tensorflow/tfjs-backend-webgpu';`);
    packages.push('@tensorflow/tfjs-backend-webgpu');
  }
  const feeds = r.inputs.map((i) => `tf.tensor(inputs[${str(i.name)}], [${i.shape.join(', ')}], ${str(i.dtype)})`);
  const code = [
    ...head,
    '',
    ...setup,
    `await tf.setBackend(${str(backend)});`,
    `await tf.ready();`,
    ...variantNote(r, options),
    `const model = await tf.${graph ? 'loadGraphModel' : 'loadLayersModel'}(${str(options.modelUrl)});`,
    ...runDoc(r, options),
    `export async function run(inputs) {`,
    `  const xs = [${feeds.join(', ')}];`,
    `  const ys = [model.${graph ? 'execute' : 'predict'}(xs.length === 1 ? xs[0] : xs)].flat();`,
    `  const out = {};`,
    ...r.outputs.map((o, k) => `  out[${str(o.name)}] = { data: await ys[${k}].data(), dims: ys[${k}].shape };`),
    `  tf.dispose([...xs, ...ys]);`,
    `  return out;`,
    `}`,
  ];
  return {
    code: code.join('\n') + '\n',
    packages,
    selfHost:
      backend === 'wasm'
        ? TFJS_WASM.map((f) => ({ from: `node_modules/@tensorflow/tfjs-backend-wasm/dist/${f}`, to: `${base}${f}` }))
        : [],
  };
}

/** The code for a cell; throws for runtimes an app doesn't ship (native reference, calibration). */
export function shipCode(r: OkCellResult, options: ShipCodeOptions): ShipCode {
  if (r.cell.runtime === 'ort') return ortCode(r, options);
  if (r.cell.runtime === 'tfjs') return tfjsCode(r, options);
  throw new RangeError(`${r.cell.id}: ${r.cell.runtime} is a yardstick of the lab, not something an app ships`);
}
