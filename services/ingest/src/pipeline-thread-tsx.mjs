// A pipeline thread's entry when Vigil runs from its TypeScript source: tsx's loader
// flags do not carry into worker threads, so the thread registers tsx itself.
import { register } from "tsx/esm/api";

register();
const thread = await import("./pipeline-thread.ts");
export default thread.default;
