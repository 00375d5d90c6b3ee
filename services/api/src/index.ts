export { createApiApp } from "./app";
export type { ApiDeps } from "./app";
