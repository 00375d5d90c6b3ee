import type { VigilAgent } from "@vigil/agent-sdk";

/** A support ticket the demo bot works on. */
export interface Ticket {
  id: number;
  customerId: number;
  body: string;
  wantsRefund: boolean;
  needsBilling: boolean;
}

const ASKS = [
  "My order has not arrived, can you check where it is?",
  "I was charged twice for the same order, please refund one charge.",
  "How do I change the email address on my account?",
  "The invoice for last month shows the wrong VAT number.",
  "Please cancel my subscription at the end of this month.",
];

/** A deterministic stream of tickets (same seed, same tickets). */
export function tickets(count: number, seed = 1): Ticket[] {
  let x = seed;
  const next = (): number => {
    x = (x * 1103515245 + 12345) % 2147483648;
    return x / 2147483648;
  };
  return Array.from({ length: count }, (_, i) => {
    const body = ASKS[Math.floor(next() * ASKS.length)] as string;
    return {
      id: 5000 + i,
      customerId: 1000 + Math.floor(next() * 200),
      body,
      wantsRefund: body.includes("refund"),
      needsBilling: body.includes("invoice") || body.includes("subscription"),
    };
  });
}

/**
 * One support session as a real support bot would run it: read the ticket, ask the
 * model, look up the customer and orders, and act: a refund (with a human approval),
 * a hand-off to the billing agent, or a reply.
 */
export async function handleTicket(agent: VigilAgent, ticket: Ticket): Promise<void> {
  await agent.session(`ticket-${ticket.id}`, async () => {
    await agent.modelCall(
      { model: "claude-sonnet-4-5", input: `Ticket #${ticket.id}: ${ticket.body}` },
      async () => "plan",
    );
    await agent.toolCall("lookup_customer", { customerId: ticket.customerId }, () =>
      agent.dbQuery(
        {
          system: "postgresql",
          statement:
            "SELECT c.id, c.email, o.id, o.status FROM customers c JOIN orders o ON o.customer_id = c.id WHERE c.id = $1",
          credentialId: "cred-pg-support-ro",
          serverAddress: "db.internal",
        },
        async () => [],
      ),
    );
    if (ticket.wantsRefund) {
      agent.approval({ id: `appr-${ticket.id}`, status: "approved", approver: "oncall-support" });
      await agent.toolCall("refund_order", { customerId: ticket.customerId }, async () => {
        await agent.httpCall(
          { method: "POST", url: "https://api.stripe.com/v1/refunds", credentialId: "cred-stripe-refunds" },
          async () => ({ status: 200 }),
        );
        await agent.dbQuery(
          {
            system: "postgresql",
            statement: "UPDATE orders SET status = 'refunded' WHERE customer_id = $1 AND status = 'paid'",
            credentialId: "cred-pg-support-rw",
            serverAddress: "db.internal",
          },
          async () => 1,
        );
      });
    } else if (ticket.needsBilling) {
      await agent.callAgent(
        { agentId: "billing-bot", url: "http://billing-bot.agents.internal/invoke" },
        async () => "handed off",
      );
    }
    await agent.toolCall("reply_to_ticket", { ticketId: ticket.id }, async () => undefined);
  });
}
