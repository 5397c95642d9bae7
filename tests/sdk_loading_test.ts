/**
 * No action loads the AWS SDK before it opens a provider: input errors, configuration errors
 * and unsupported actions are answered without reading, parsing or compiling it
 * (docs/performance.md). Checked in the module graph of the sources (what `deno compile` embeds and
 * loads module by module) and in the built portable form, run without its SDK bundle.
 */

import assert from "node:assert/strict";
import { startEc2Endpoint, TEST_CREDENTIALS } from "./ec2_endpoint/mod.ts";
import { type ActionResult, DIST_VMM, runProcess, writeLocalConfig } from "./harness.ts";

const ROOT = new URL("..", import.meta.url).href;

/** One module of `deno info --json`: its specifier and what it imports. */
interface GraphModule {
  readonly specifier: string;
  readonly dependencies?: {
    readonly code?: { readonly specifier: string };
    readonly isDynamic?: boolean;
  }[];
}

/** The module graph of the driver's entry point, by specifier. */
async function driverGraph(): Promise<Map<string, GraphModule>> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", "main.ts"],
    cwd: new URL(ROOT).pathname,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  const graph = JSON.parse(new TextDecoder().decode(out.stdout)) as { modules: GraphModule[] };
  return new Map(graph.modules.map((m) => [m.specifier, m]));
}

/** What loading a module loads before any of its code runs: its static imports, transitively. */
function staticClosure(graph: Map<string, GraphModule>, root: string): Set<string> {
  const seen = new Set<string>();
  const todo = [root];
  while (todo.length > 0) {
    const specifier = todo.pop()!;
    if (seen.has(specifier)) continue;
    seen.add(specifier);
    for (const dep of graph.get(specifier)?.dependencies ?? []) {
      if (dep.code && !dep.isDynamic) todo.push(dep.code.specifier);
    }
  }
  return seen;
}

/** Whether a specifier is the driver's own code (not npm, not a `node:` module). */
const own = (specifier: string) => specifier.startsWith(ROOT);
const relative = (specifier: string) => specifier.slice(ROOT.length);

Deno.test("the entry point and every action load no npm or node: module before their code runs", async () => {
  const graph = await driverGraph();
  const roots = [...graph.keys()].filter((s) =>
    relative(s) === "main.ts" || relative(s).startsWith("actions/")
  );
  assert.ok(roots.length > 10, `the actions are in the graph: ${roots.map(relative)}`);
  const loaded = roots.flatMap((root) =>
    [...staticClosure(graph, root)].filter((s) => !own(s)).map((s) => `${relative(root)}: ${s}`)
  );
  assert.deepEqual(loaded, []);
});

Deno.test("only lib/providers/ec2/aws_sdk.ts imports the SDK, and it imports nothing of the driver", async () => {
  const graph = await driverGraph();
  const importers = new Set<string>();
  for (const module of graph.values()) {
    if (!own(module.specifier)) continue;
    for (const dep of module.dependencies ?? []) {
      if (dep.code && /^npm:\/?@(aws-sdk|smithy)\//.test(dep.code.specifier)) {
        importers.add(relative(module.specifier));
      }
    }
  }
  assert.deepEqual([...importers], ["lib/providers/ec2/aws_sdk.ts"]);
  const seam = graph.get(`${ROOT}lib/providers/ec2/aws_sdk.ts`)!;
  const ownImports = (seam.dependencies ?? []).filter((d) => d.code && own(d.code.specifier));
  assert.deepEqual(ownImports, []);
});

const BUILD_INFO = await Deno.readTextFile(new URL("../dist/BUILD_INFO", import.meta.url))
  .catch(() => "");
const PORTABLE = BUILD_INFO.includes("mode=portable");

Deno.test({
  name: "the portable form without its SDK bundle answers every error before a cloud call alike",
  ignore: !PORTABLE,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    // A copy of vmm/<name>/ whose .driver/js has no sdk/: loading the SDK fails there.
    const tmp = await Deno.makeTempDir({ prefix: "hybrid-nosdk-" });
    const ep = await startEc2Endpoint({ timing: { pendingMs: 0 } });
    try {
      const vmm = `${tmp}/vmm`;
      await Deno.mkdir(`${vmm}/.driver/js`, { recursive: true });
      await Deno.symlink(`${DIST_VMM}.driver/deno`, `${vmm}/.driver/deno`);
      for await (const entry of Deno.readDir(`${DIST_VMM}.driver/js`)) {
        if (entry.isFile) {
          await Deno.copyFile(
            `${DIST_VMM}.driver/js/${entry.name}`,
            `${vmm}/.driver/js/${entry.name}`,
          );
        }
      }
      for (const action of ["poll", "deploy", "attach_nic", "snapshot_create"]) {
        await Deno.copyFile(`${DIST_VMM}${action}`, `${vmm}/${action}`);
      }
      // Unshared polls: the control below is one DescribeInstances of its own.
      const config = await writeLocalConfig(`${tmp}/config.json`, ep.url, TEST_CREDENTIALS, {
        defaults: { pollWindowSeconds: 0 },
      });
      const env = { HOME: tmp, HYBRID_DRIVER_CONFIG: config };
      const both = async (action: string, args: string[], e = env) => {
        const full = await runProcess(`${DIST_VMM}${action}`, args, { env: e });
        const bare = await runProcess(`${vmm}/${action}`, args, { env: e });
        return { full, bare };
      };
      const same = async (action: string, args: string[], e = env) => {
        const { full, bare } = await both(action, args, e);
        assert.notEqual(full.code, 0, `${action} ${args.join(" ")} fails: ${full.stdout}`);
        assert.deepEqual(bare, full, `${action} ${args.join(" ")}`);
      };
      await same("poll", ["i-bad", "aws", "7", "aws"]);
      await same("poll", ["i-0123456789abcdef0", "aws"]);
      await same("deploy", [`${tmp}/missing.xml`, "aws", "7", "aws"]);
      await same("poll", ["i-0123456789abcdef0", "aws", "7", "aws"], {
        HOME: tmp,
        HYBRID_DRIVER_CONFIG: `${tmp}/none.json`,
      });
      await same("attach_nic", ["one", "two", "three"]);
      await same("snapshot_create", ["i-0123456789abcdef0", "0"]);
      assert.equal(ep.calls.length, 0, "no error above asked EC2");

      // The control: a poll that asks EC2 needs the SDK, so the copy cannot do it.
      const { full, bare }: { full: ActionResult; bare: ActionResult } = await both(
        "poll",
        ["i-0123456789abcdef0", "aws", "7", "aws"],
      );
      assert.match(full.stdout, /InvalidInstanceID\.NotFound|does not exist/, full.stdout);
      assert.equal(ep.countCalls("DescribeInstances"), 1, "only the full form asked EC2");
      assert.equal(bare.code, 1);
      assert.match(bare.stdout, /sdk\/aws_sdk\.js/, bare.stdout);
    } finally {
      await ep.close();
      await Deno.remove(tmp, { recursive: true });
    }
  },
});
