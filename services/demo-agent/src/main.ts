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
const approvalWaitMs = Number(process.env.DEMO_APPROVAL_WAIT_SECONDS ?? 60) * 1000;
for (const ticket of tickets(count)) {
  await handleTicket(agent, ticket, {
    approvalWaitMs,
    onPending: (id, rendering) =>
      process.stdout.write(
        `waiting up to ${approvalWaitMs / 1000} s for a person to decide: ${rendering}\n` +
          `  vigil approve ${id} --justification "..."   (or deny; also in the console under Approvals)\n`,
      ),
    onOutcome: (line) => process.stdout.write(`${line}\n`),
  });
  process.stdout.write(`handled ticket #${ticket.id}\n`);
}
await agent.shutdown();
process.stdout.write(`done: ${count} sessions sent to Vigil\n`);
