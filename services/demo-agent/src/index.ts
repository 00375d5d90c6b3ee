export { handleTicket, tickets } from "./workload";
export type { Ticket } from "./workload";
