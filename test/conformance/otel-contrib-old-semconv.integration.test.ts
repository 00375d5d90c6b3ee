import { contribConformanceSuite } from "../support/contrib-agent";

/**
 * Conformance: the OpenTelemetry contrib instrumentations most Node agents run under
 * (instrumentation-pg 0.64.0, -mysql2 0.58.0, -http 0.212.0, -undici 0.22.0, pinned),
 * sending the keys before the stable conventions (their default before mid-2026), from real queries on private PostgreSQL and
 * MariaDB servers and real calls out to 127.0.0.1, through the real OTLP exporter into a
 * running Vigil. The suite is in test/support/contrib-agent.ts.
 */
contribConformanceSuite(false);
