// A benchmark without its own module: no cell drawing, values shown as they are.
export const renderers = {};
export const presentation = {};
export function scatterColors() { return []; }
export function configure() {}
export const archCaption = "";
export function archLabel() { return ""; }
export function drawArch() { return null; }
