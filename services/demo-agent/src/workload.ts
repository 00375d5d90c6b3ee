import { VigilApprovalDenied } from "@vigil/agent-sdk";
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
 * model, look up the customer and orders, and act: a refund (after a person approved it
 * through Vigil's gate), a hand-off to the billing agent, or a reply; now and then an
 * over-eager cleanup (a DROP) that the gate holds.
 */
export interface TicketOptions {
  /** A request waits for a person: where to say so (`vigil approve <id>`). */
  onPending?: (decisionId: string, rendering: string) => void;
  /** What happened to a gated action. */
  onOutcome?: (line: string) => void;
  /** How long to wait for a person before moving on (default 60 s). */
  approvalWaitMs?: number;
}

export async function handleTicket(agent: VigilAgent, ticket: Ticket, options: TicketOptions = {}): Promise<void> {
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
      // A refund moves money: the gate asks a person (the demo agent's policy declares
      // refund_order destructive), and the refund runs only once approved.
      const refunded = await agent
        .confirm(
          {
            description: `refund the duplicate charge the customer of ticket #${ticket.id} reported`,
            action: { tool: { name: "refund_order", arguments: { customerId: ticket.customerId } } },
            onPending: (a) => options.onPending?.(a.decision_id, a.rendering),
            maxWaitMs: options.approvalWaitMs ?? 60_000,
          },
          () => refund(agent, ticket),
        )
        .then(() => true)
        .catch((err: unknown) => {
          if (err instanceof VigilApprovalDenied) return false;
          throw err;
        });
      options.onOutcome?.(`ticket #${ticket.id}: refund ${refunded ? "approved and run" : "not approved, not run"}`);
    } else if (ticket.needsBilling) {
      await agent.callAgent(
        { agentId: "billing-bot", url: "http://billing-bot.agents.internal/invoke" },
        async () => "handed off",
      );
    }
    if (ticket.id % 10 === 3) {
      // Tidying up gone too far: Vigil's gate holds the DROP; unapproved, it never runs.
      await agent
        .confirm(
          {
            description: "drop the old archive table to save space",
            action: { db: { system: "postgresql", statement: "DROP TABLE orders_archive" } },
            onPending: (a) => options.onPending?.(a.decision_id, a.rendering),
            maxWaitMs: options.approvalWaitMs ?? 60_000,
          },
          () =>
            agent.dbQuery(
              { system: "postgresql", statement: "DROP TABLE orders_archive", credentialId: "cred-pg-support-rw" },
              async () => 0,
            ),
        )
        .catch((err: unknown) => {
          if (!(err instanceof VigilApprovalDenied)) throw err;
          options.onOutcome?.(`ticket #${ticket.id}: DROP TABLE orders_archive not run (${err.answer.status})`);
        });
    }
    await agent.toolCall("reply_to_ticket", { ticketId: ticket.id }, async () => undefined);
  });
}

async function refund(agent: VigilAgent, ticket: Ticket): Promise<void> {
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
}
