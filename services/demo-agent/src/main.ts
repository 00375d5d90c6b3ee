import { startVigilAgent } from "@vigil/agent-sdk";
import { handleTicket, tickets } from "./workload";

// `npm run demo`: a support bot working through tickets, traced into the local Vigil.
const token = process.env.VIGIL_TOKEN;
if (token === undefined || token === "") {
  process.stderr.write("demo-agent: set VIGIL_TOKEN to the token `npm start` printed for the demo agent\n");
  process.exit(2);
}
const count = Number(process.env.DEMO_TICKETS ?? 25);
const agent = startVigilAgent({
  agentId: process.env.DEMO_AGENT_ID ?? "demo",
  token,
  endpoint: process.env.VIGIL_ENDPOINT ?? "http://localhost:4318",
  environment: process.env.DEMO_ENVIRONMENT ?? "production",
});
for (const ticket of tickets(count)) {
  await handleTicket(agent, ticket);
  process.stdout.write(`handled ticket #${ticket.id}\n`);
}
await agent.shutdown();
process.stdout.write(`done: ${count} sessions sent to Vigil\n`);
