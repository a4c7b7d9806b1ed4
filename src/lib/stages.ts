/** The pipeline's stages, in order. Apart from schema.ts so that pure helpers (stats) import no schemas. */
export const STAGES = ['preprocess', 'upload', 'inference', 'readback', 'postprocess'] as const;
