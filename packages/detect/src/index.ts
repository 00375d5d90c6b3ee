export { DETECTORS, detect } from "./detectors";
export { alertFor, severityOf } from "./model";
export type { DetectionContext, Detector } from "./model";
export { injectionSignals } from "./injection";
export { runDetection } from "./run";
export type { DetectionRunResult } from "./run";
