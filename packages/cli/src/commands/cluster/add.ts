import type { ClusterMember, ClusterView } from "@cfguardian/shared";
import type { Command } from "commander";
import type { Context } from "../../context.js";
import { UsageError } from "../../errors.js";
import { EXIT } from "../../exit-codes.js";
import { printJson } from "../shared.js";

const NODE_ID = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** "90s", "2m", "500ms" or a number of seconds -> milliseconds. */
function parseWait(raw: string): number {
  const match = /^(\d+)(ms|s|m)?$/.exec(raw.trim());
  if (!match) throw new UsageError(`--wait takes a duration like 90s or 2m, not ${JSON.stringify(raw)}`);
  const n = Number(match[1]);
  return match[2] === "ms" ? n : match[2] === "m" ? n * 60_000 : n * 1000;
}

export async function runClusterAdd(
  id: string,
  url: string,
  options: { learner?: boolean; wait?: string },
  context: Context,
): Promise<number> {
  if (!NODE_ID.test(id))
    throw new UsageError(`member id ${JSON.stringify(id)} must be lowercase letters, digits and -`);
  if (!/^https?:\/\/[^/\s]+\/?$/.test(url)) {
    throw new UsageError(
      `the URL must be the node's base URL, like http://10.0.0.4:7070, not ${JSON.stringify(url)}`,
    );
  }
  const voter = !options.learner;
  const client = context.client();
  const added = await client.post<{ member: ClusterMember }>("/v1/cluster/members", {
    id,
    url: url.replace(/\/$/, ""),
    voter,
  });
  let member = added.member;
  if (options.wait !== undefined && voter) {
    const deadline = Date.now() + parseWait(options.wait);
    while (!member.voter) {
      if (Date.now() > deadline) {
        if (context.json) printJson(context, { member, promoted: false });
        context.io.err(
          `${id} was added as a learner but is not a voter yet: is cfgd running on it with --join? It is promoted once it has caught up.\n`,
        );
        return EXIT.unavailable;
      }
      await new Promise((done) => setTimeout(done, 500));
      const view = await client.get<ClusterView>("/v1/cluster");
      member = view.members.find((m) => m.id === id) ?? member;
    }
  }
  if (context.json) printJson(context, { member });
  else if (member.voter) context.io.out(`${id} is a voting member (${member.url}).\n`);
  else {
    context.io.out(
      `Added ${id} (${member.url}) as a learner${voter ? "; the leader makes it a voter once it has caught up" : ""}.\n` +
        `Start it with: cfgd --node-id ${id} --join --listen <host:port> --peers <existing id=url,...> --cluster-secret <secret> --data-dir <dir>\n`,
    );
  }
  return EXIT.ok;
}

export function register(parent: Command, context: () => Context): void {
  parent
    .command("add")
    .argument("<id>", "the new member's node id (its --node-id)")
    .argument("<url>", "the URL other members reach it at, like http://10.0.0.4:7070")
    .description("add a member: it joins as a learner and becomes a voter once it has caught up")
    .option("--learner", "keep it a non-voting learner (a read replica)")
    .option("--wait <duration>", "wait until it is a voter (start it meanwhile), like 2m")
    .action(async (id: string, url: string, options: { learner?: boolean; wait?: string }) => {
      process.exitCode = await runClusterAdd(id, url, options, context());
    });
}
