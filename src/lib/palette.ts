/**
 * The one set of series colours for every chart (page, exported PNGs, SVG reports): the Okabe-Ito palette, told
 * apart by people with colour-vision deficiencies.
 */
export const PALETTE = ['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#56B4E9', '#D55E00', '#F0E442', '#999999'];
