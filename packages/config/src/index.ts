export { VigilConfigSchema, AgentSchema, TokenSchema } from "./schema";
export type { VigilConfig, AgentConfig } from "./schema";
export { parseVigilConfig, loadVigilConfig } from "./load";
export { generateToken, sha256Hex, TOKEN_PREFIX } from "./tokens";
export { readEnvironment } from "./environment";
export type { Environment } from "./environment";
