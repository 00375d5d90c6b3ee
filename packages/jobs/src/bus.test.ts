import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "@vigil/common";
import { PrivateRedis, freePort } from "../../../test/support/redis-server";
import { until } from "../../../test/support/wait";
import { jobBus } from "./bus";
import type { BaselinesResult, JobHandlers } from "./index";

/**
 * The job bus in both placements: in one process (no Redis), and on BullMQ between a
 * producing process (ingest, the API) and a worker process, on a Redis of its own.
 */
const logger = createLogger("error");
const result: BaselinesResult = { builtAtMs: 1, agents: 2, learning: 0, durationMs: 3 };

function countingHandlers(): JobHandlers & { detections: number; rebuilds: number } {
  const h = {
    detections: 0,
    rebuilds: 0,
    detect: async () => void h.detections++,
    rebuildBaselines: async () => {
      h.rebuilds++;
      return result;
    },
  };
  return h;
}

describe("the in-process job bus", () => {
  it("runs the worker role's handlers directly, and refuses a rebuild while there is none", async () => {
    const bus = jobBus(undefined, logger);
    expect(bus.inProcess).toBe(true);
    bus.wakeDetection({ chainId: "main", seq: 1 }); // no worker role yet: nothing to wake
    await expect(bus.requestBaselines()).rejects.toThrow(/no worker role/);

    const h = countingHandlers();
    await bus.serve(h, { baselinesEveryMs: 60_000 });
    await until("the first rebuild, at once", () => h.rebuilds === 1);
    bus.wakeDetection({ chainId: "main", seq: 2 });
    await until("detection woken", () => h.detections === 1);
    expect(await bus.requestBaselines()).toEqual({ status: "done", result });
    await bus.close();
    bus.wakeDetection({ chainId: "main", seq: 3 });
    expect(h.detections).toBe(1);
  });
});

describe("the BullMQ job bus", () => {
  let redis: PrivateRedis;
  beforeAll(async () => {
    redis = new PrivateRedis(await freePort());
    await redis.start();
  });
  afterAll(async () => {
    await redis.stop();
  });

  it("carries ingest's wake-ups and the API's rebuild requests to a worker in another process", async () => {
    const producer = jobBus(redis.url, logger);
    const worker = jobBus(redis.url, logger);
    expect(producer.inProcess).toBe(false);
    const h = countingHandlers();
    await worker.serve(h, { baselinesEveryMs: 3_600_000 });

    producer.wakeDetection({ chainId: "ingest-1", seq: 7 });
    await until("the worker ran detection", () => h.detections >= 1);
    const rebuildsBefore = h.rebuilds;
    const asked = await producer.requestBaselines();
    expect(asked).toMatchObject({ status: "queued" });
    expect(asked.status === "queued" && asked.jobId !== "").toBe(true);
    await until("the worker rebuilt baselines", () => h.rebuilds > rebuildsBefore);

    await worker.close();
    await producer.close();
  });

  it("tells the API a rebuild was not started when Redis does not answer", async () => {
    const down = jobBus(`redis://127.0.0.1:${await freePort()}`, logger);
    await expect(down.requestBaselines()).rejects.toThrow();
    down.wakeDetection({ chainId: "main", seq: 1 }); // never throws: detection catches up on its timer
    await down.close();
  });
});
