import type { Logger } from "@vigil/common";
import { resolveReceivers } from "@vigil/alerting";
import type { Environment, EnvironmentVariables, VigilConfig } from "@vigil/config";
import type { ClickHouseClient } from "@vigil/store";
import { BullMqDelivery, startDeliveryWorkers } from "./bullmq-delivery";
import { Deliverer } from "./deliverer";
import { Dispatcher } from "./dispatcher";
import { InProcessDelivery } from "./lanes";

/** The delivery settings every process takes from its environment. */
export function deliveryOptions(
  env: Environment,
  logger: Logger,
): {
  env: EnvironmentVariables;
  redisUrl: string | undefined;
  publicUrl: string;
  timeoutMs: number;
  tickMs: number;
  logger: Logger;
} {
  return {
    env: env.variables,
    redisUrl: env.redisUrl,
    publicUrl: env.publicUrl,
    timeoutMs: env.deliveryTimeoutMs,
    tickMs: env.dispatchIntervalMs,
    logger,
  };
}

export interface DeliveryService {
  dispatcher: Dispatcher;
  /** The configured receivers' names. */
  receivers: string[];
  deliverer: Deliverer;
  close(): Promise<void>;
}

/**
 * Alert delivery as configured (`receivers:` and `route:`): the dispatcher, and the
 * delivery queues on BullMQ when `redisUrl` is given, else in-process lanes. Undefined
 * when no route is configured. Throws ConfigError when a receiver's secret is missing.
 */
export function startDelivery(
  client: ClickHouseClient,
  config: Pick<VigilConfig, "receivers" | "route" | "inhibit_rules">,
  options: {
    env: EnvironmentVariables;
    redisUrl: string | undefined;
    publicUrl: string;
    timeoutMs: number;
    tickMs?: number;
    logger: Logger;
  },
): DeliveryService | undefined {
  if (config.route === undefined) return undefined;
  const receivers = resolveReceivers(config.receivers, options.env);
  const logger = options.logger.child({ component: "delivery" });
  const deliverer = new Deliverer(client, receivers, logger, {
    publicUrl: options.publicUrl,
    timeoutMs: options.timeoutMs,
  });
  const queue =
    options.redisUrl === undefined
      ? new InProcessDelivery(deliverer, receivers, logger)
      : new BullMqDelivery(options.redisUrl);
  const workers =
    options.redisUrl === undefined ? undefined : startDeliveryWorkers(options.redisUrl, receivers, deliverer, logger);
  const dispatcher = new Dispatcher(client, queue, logger, config.route, config.inhibit_rules);
  dispatcher.start(options.tickMs ?? 1000);
  logger.info("alert delivery started", {
    receivers: [...receivers.values()].map((r) => `${r.name} (${r.type})`),
    placement: options.redisUrl === undefined ? "in-process" : "bullmq",
  });
  return {
    dispatcher,
    deliverer,
    receivers: [...receivers.keys()],
    close: async () => {
      await dispatcher.stop();
      await workers?.close();
      await queue.close();
    },
  };
}
