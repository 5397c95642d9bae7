/**
 * Installs the built driver into OpenNebula's remotes directory and prints the `oned.conf`
 * section and the `onehost create` command to use.
 *
 * Usage: deno task install [--remotes /var/lib/one/remotes] [--dist dist] [--name provider]
 *
 * @module
 */

import { parseArgs } from "node:util";

const { values: options } = parseArgs({
  args: Deno.args,
  options: {
    remotes: { type: "string", default: Deno.env.get("ONE_REMOTES") ?? "/var/lib/one/remotes" },
    dist: { type: "string", default: new URL("../dist", import.meta.url).pathname },
    name: { type: "string", default: "provider" },
    host: { type: "string", default: "aws-us-east-1" },
  },
});

const name = options.name!;
const source = `${options.dist}/vmm/${name}`;
const target = `${options.remotes}/vmm/${name}`;
try {
  await Deno.stat(`${source}/deploy`);
} catch {
  console.error(`Cannot install: ${source}/deploy does not exist; run "deno task build" first`);
  Deno.exit(1);
}

await Deno.remove(target, { recursive: true }).catch(() => {});
await copyTree(source, target);
const info = await Deno.readTextFile(`${options.dist}/BUILD_INFO`).catch(() => "");
const mode = /^mode=(\w+)/m.exec(info)?.[1] ?? "unknown";
console.log(`Installed the ${name} driver (${mode} build) into ${target}

Add this to /etc/one/oned.conf and restart oned (OpenNebula 4.4 and later):

VM_MAD = [
    NAME       = "${name}",
    EXECUTABLE = "one_vmm_sh",
    ARGUMENTS  = "-t 15 -r 0 -p -w 600 ${name}",
    TYPE       = "xml" ]

(OpenNebula 3.2-4.2 syntax: VM_MAD = [ name = "vmm_${name}", executable = "one_vmm_sh",
 arguments = "-t 15 -r 0 ${name}", type = "xml" ]; -p and -w exist from 5.x.)

Then add one host per account and region (its name selects the settings in
/etc/one/hybrid_driver.json):

  onehost create ${options.host} -i dummy -v ${name}                       # 4.x and later
  onehost create ${options.host} im_dummy vmm_${name} tm_dummy dummy       # 3.2

The driver's own host probes come in a later release; until then the dummy IM reports capacity.`);

/** Copies a directory tree, keeping file modes. */
async function copyTree(from: string, to: string): Promise<void> {
  await Deno.mkdir(to, { recursive: true });
  for await (const entry of Deno.readDir(from)) {
    const src = `${from}/${entry.name}`;
    const dst = `${to}/${entry.name}`;
    if (entry.isDirectory) {
      await copyTree(src, dst);
    } else {
      await Deno.copyFile(src, dst);
      await Deno.chmod(dst, (await Deno.stat(src)).mode! & 0o777);
    }
  }
}
