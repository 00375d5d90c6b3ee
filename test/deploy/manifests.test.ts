import { describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";

/**
 * The deploy manifests, checked with the validators the registries offer: the
 * Kubernetes OpenAPI schemas of the kubernetes-models package (npm), and
 * `docker-compose config` (Debian's docker-compose, installed by .ci/run).
 */
const documents = parseAllDocuments(readFileSync("deploy/kubernetes/vigil.yaml", "utf8")).map(
  (d) => d.toJS() as { apiVersion: string; kind: string; metadata: { name: string }; spec?: Record<string, unknown> },
);

async function modelFor(apiVersion: string, kind: string): Promise<new (o: unknown) => { validate(): void }> {
  const group = apiVersion.includes("/") ? apiVersion : `v1/${apiVersion}`;
  const path = apiVersion === "v1" ? `kubernetes-models/v1/${kind}` : `kubernetes-models/${group}/${kind}`;
  const mod = (await import(path)) as Record<string, new (o: unknown) => { validate(): void }>;
  return mod[kind] as new (o: unknown) => { validate(): void };
}

describe("Kubernetes manifests", () => {
  it("validate against the Kubernetes schemas", async () => {
    expect(documents.length).toBeGreaterThan(10);
    for (const doc of documents) {
      const Model = await modelFor(doc.apiVersion, doc.kind);
      expect(() => new Model(doc).validate(), `${doc.kind} ${doc.metadata.name}`).not.toThrow();
    }
  });

  it("run every pod as non-root with a read-only root, probes and resource requests", () => {
    const workloads = documents.filter((d) => d.kind === "Deployment" || d.kind === "Job");
    expect(workloads.map((w) => w.metadata.name).sort()).toEqual([
      "vigil-api",
      "vigil-ingest",
      "vigil-migrate",
      "vigil-worker",
    ]);
    for (const w of workloads) {
      const pod = (
        w.spec as {
          template: {
            spec: { securityContext: { runAsNonRoot: boolean }; containers: Array<Record<string, unknown>> };
          };
        }
      ).template.spec;
      expect(pod.securityContext.runAsNonRoot, w.metadata.name).toBe(true);
      for (const c of pod.containers) {
        expect(c.securityContext, w.metadata.name).toMatchObject({
          readOnlyRootFilesystem: true,
          allowPrivilegeEscalation: false,
        });
        expect((c.resources as { requests: unknown }).requests, w.metadata.name).toBeDefined();
        if (w.kind === "Deployment") expect(c.readinessProbe, w.metadata.name).toBeDefined();
      }
    }
  });

  it("give the ledger signing key to the worker only, mounted 0400; never to the agent-facing ingest", () => {
    const mentions = documents
      .filter((d) => d.kind === "Deployment" || d.kind === "Job")
      .filter((d) => JSON.stringify(d.spec).includes("vigil-ledger-signing-key"))
      .map((d) => d.metadata.name);
    expect(mentions).toEqual(["vigil-worker"]);
    const worker = JSON.stringify(documents.find((d) => d.metadata.name === "vigil-worker")?.spec);
    expect(worker).toContain('"defaultMode":256');
    const ingest = JSON.stringify(documents.find((d) => d.metadata.name === "vigil-ingest")?.spec);
    expect(ingest).not.toContain("VIGIL_SIGNING_KEY_FILE");
  });

  it("give the approval signing key to the API only; ingest gets the public half", () => {
    const mentions = documents
      .filter((d) => d.kind === "Deployment")
      .filter((d) => JSON.stringify(d.spec).includes("vigil-approval-signing-key"))
      .map((d) => d.metadata.name);
    expect(mentions).toEqual(["vigil-api"]);
    const ingest = JSON.stringify(documents.find((d) => d.metadata.name === "vigil-ingest")?.spec);
    expect(ingest).toContain("VIGIL_APPROVAL_PUBLIC_KEY_FILE");
    expect(ingest).not.toContain("VIGIL_APPROVAL_KEY_FILE");
  });

  it("let agents reach only ingest, and only its OTLP port", () => {
    const policies = documents.filter((d) => d.kind === "NetworkPolicy");
    const fromAgents = policies.filter((p) => JSON.stringify(p.spec).includes("vigil.dev/agent"));
    expect(fromAgents).toHaveLength(1);
    expect(fromAgents[0]?.spec).toMatchObject({
      podSelector: { matchLabels: { app: "vigil-ingest" } },
      ingress: [{ ports: [{ protocol: "TCP", port: 4318 }] }],
    });
    expect(policies.some((p) => p.metadata.name === "default-deny-ingress")).toBe(true);
  });
});

const compose = (() => {
  try {
    execFileSync("docker-compose", ["version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();
if (!compose)
  process.stderr.write(
    "manifests: docker-compose is not installed; the compose check is skipped (apt-get install docker-compose)\n",
  );

describe.skipIf(!compose)("docker-compose.yml", () => {
  it("is a valid compose file (docker-compose config)", () => {
    const out = execFileSync("docker-compose", ["-f", "deploy/docker-compose.yml", "config", "--services"], {
      encoding: "utf8",
    });
    expect(out.trim().split("\n").sort()).toEqual([
      "api",
      "clickhouse",
      "grafana",
      "ingest",
      "migrate",
      "redis",
      "worker",
    ]);
  });
});
