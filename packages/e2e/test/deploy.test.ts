/**
 * The deployment files (Dockerfile, Kubernetes manifests, systemd unit) and the GitHub Actions
 * example use only flags, variables and commands that exist, and agree on the port. Checked
 * against the real binaries' --help.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseAllDocuments, parse as parseYaml } from "yaml";
import { CFG_BIN, CFGD_BIN, ROOT } from "./helpers/processes.js";

const help = (bin: string, args: string[] = []) =>
  execFileSync(process.execPath, [bin, ...args, "--help"], {
    encoding: "utf8",
    env: { ...process.env, NO_COLOR: "1" },
  });
// Unwrapped: commander wraps long lines, e.g. between "env:" and the variable's name.
const cfgdHelp = help(CFGD_BIN).replace(/\s+/g, " ");
const read = (path: string) => readFileSync(join(ROOT, path), "utf8");

/** Every CFGD_* variable and --flag a deployment file passes must be one cfgd knows. */
function expectKnown(variables: string[], flags: string[]) {
  for (const name of variables) expect(cfgdHelp, `cfgd --help knows ${name}`).toContain(`env: ${name}`);
  for (const flag of flags) expect(cfgdHelp, `cfgd --help knows ${flag}`).toMatch(new RegExp(`${flag}[ ,<]`));
}

const portOf = (listen: string) => Number(/:(\d+)$/.exec(listen)![1]);

describe("deployment files", () => {
  it("Dockerfile: a non-root runtime stage, known variables, and one port for listen, EXPOSE and the healthcheck", () => {
    const text = read("deploy/docker/Dockerfile");
    expect(text.match(/^FROM /gm)!.length).toBeGreaterThanOrEqual(2);
    expect(text).toMatch(/^USER cfgd$/m);
    const variables = [...text.matchAll(/\b(CFGD_[A-Z_]+)=/g)].map((m) => m[1]!);
    expectKnown(variables, []);
    const listen = /CFGD_LISTEN=(\S+)/.exec(text)![1]!;
    const exposed = Number(/^EXPOSE (\d+)/m.exec(text)![1]);
    const checked = Number(/HEALTHCHECK[\s\S]*?127\.0\.0\.1:(\d+)\/healthz/.exec(text)![1]);
    expect(new Set([portOf(listen), exposed, checked]).size).toBe(1);
    expect(text).toMatch(/ENTRYPOINT \["node", "\/opt\/cfgd\/bin\/cfgd\.js"\]/);
  });

  it("Kubernetes: a 3-node StatefulSet whose peers, probes, ports and PodDisruptionBudget agree", () => {
    const docs = parseAllDocuments(read("deploy/kubernetes/cfgd.yaml")).map((d) => d.toJS());
    const kind = (k: string) => docs.filter((d) => d.kind === k);
    const set = kind("StatefulSet")[0];
    const headless = kind("Service").find((s) => s.spec.clusterIP === "None");
    expect(set.spec.replicas).toBe(3);
    expect(set.spec.serviceName).toBe(headless.metadata.name);
    expect(headless.spec.publishNotReadyAddresses).toBe(true);
    expect(kind("PodDisruptionBudget")[0].spec.minAvailable).toBe(2);
    expect(set.spec.volumeClaimTemplates[0].spec.resources.requests.storage).toBeDefined();
    const container = set.spec.template.spec.containers[0];
    const env = Object.fromEntries(
      container.env.map((e: { name: string; value?: string }) => [e.name, e.value]),
    );
    expectKnown(Object.keys(env), container.args ?? []);
    const port = container.ports[0].containerPort;
    expect(portOf(env.CFGD_LISTEN)).toBe(port);
    for (const service of kind("Service")) expect(service.spec.ports[0].port).toBe(port);
    expect(container.readinessProbe.httpGet.path).toBe("/readyz");
    expect(container.livenessProbe.httpGet.path).toBe("/healthz");
    // Every pod of the set is a peer, addressed through the headless Service, on the same port.
    const peers = (env.CFGD_PEERS as string).split(",");
    expect(peers).toHaveLength(set.spec.replicas);
    peers.forEach((peer, i) => {
      expect(peer).toBe(
        `${set.metadata.name}-${i}=http://${set.metadata.name}-${i}.${headless.metadata.name}.${set.metadata.namespace}.svc.cluster.local:${port}`,
      );
    });
    expect(set.spec.template.spec.securityContext.runAsNonRoot).toBe(true);
    expect(
      container.env.find((e: { name: string }) => e.name === "CFGD_CLUSTER_SECRET").valueFrom.secretKeyRef,
    ).toBeDefined();
  });

  it("systemd: known variables and flags, hardened, stopped with SIGTERM", () => {
    const text = read("deploy/systemd/cfgd.service");
    const variables = [...text.matchAll(/^Environment=(CFGD_[A-Z_]+)=/gm)].map((m) => m[1]!);
    const exec = /^ExecStart=(.*)$/m.exec(text)![1]!;
    expect(exec).toContain("packages/daemon/bin/cfgd.js");
    expectKnown(variables, exec.match(/--[a-z-]+/g) ?? []);
    for (const line of [
      "DynamicUser=yes",
      "NoNewPrivileges=yes",
      "ProtectSystem=strict",
      "KillSignal=SIGTERM",
    ]) {
      expect(text).toContain(line);
    }
  });
});

describe("the GitHub Actions example", () => {
  it("parses, and every cfg command and flag it runs exists", () => {
    const workflow = parseYaml(read("examples/github-actions/cfguardian.yml"));
    const runs: string[] = Object.values(
      workflow.jobs as Record<string, { steps: { run?: string }[] }>,
    ).flatMap((job) => job.steps.map((s) => s.run).filter((r): r is string => typeof r === "string"));
    const invocations = runs.flatMap((run) => [
      ...run.matchAll(/\bcfg ([a-z]+)((?: +(?:--?[a-z-]+|"[^"]*"|\$\w+|\d+))*)/g),
    ]);
    expect(invocations.length).toBeGreaterThanOrEqual(5);
    const globals = help(CFG_BIN);
    for (const [, command, rest] of invocations) {
      const own = help(CFG_BIN, [command!]);
      for (const flag of rest!.match(/--?[a-z][a-z-]*/g) ?? []) {
        expect(`${own}\n${globals}`, `cfg ${command} ${flag}`).toMatch(
          new RegExp(`(^|[ ,])${flag}([ ,<]|$)`, "m"),
        );
      }
    }
  });
});
