export { startAllInOne, placementFor } from "./all-in-one";
export type { AllInOne } from "./all-in-one";
export { loadOrCreateConfig, demoBanner } from "./bootstrap";
export type { LoadedConfig } from "./bootstrap";
