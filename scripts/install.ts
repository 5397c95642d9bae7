/**
 * Installs the built driver into OpenNebula's remotes directory and prints the `oned.conf`
 * (and, for 5.12+, `monitord.conf`) sections and the `onehost create` command to use.
 *
 * Usage: deno task install [--remotes /var/lib/one/remotes] [--dist dist] [--name provider]
 *                          [--host aws-us-east-1] [--im monitord|legacy|none]
 *
 * --im monitord (default)  OpenNebula 5.12+: im/<name>.d/ (links to OpenNebula's own
 *                          monitord client) and im/<name>-probes.d/
 * --im legacy              OpenNebula 4.4-5.10: im/<name>.d/poll, run by one_im_sh
 * --im none                no host probes: the host uses the dummy IM (3.2, or by choice)
 *
 * The two IM layouts exclude each other: 5.12+'s run_monitord_client runs every executable of
 * im/<name>.d/, so a 4.x poll there would run at each monitoring start.
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
    im: { type: "string", default: "monitord" },
  },
});

const im = options.im!;
if (!["monitord", "legacy", "none"].includes(im)) {
  console.error(`Cannot install: --im must be monitord, legacy or none, not "${im}"`);
  Deno.exit(1);
}

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
const imSource = `${options.dist}/im`;
const imTarget = `${options.remotes}/im`;
await Deno.remove(`${imTarget}/${name}.d`, { recursive: true }).catch(() => {});
await Deno.remove(`${imTarget}/${name}-probes.d`, { recursive: true }).catch(() => {});
if (im === "legacy") {
  await Deno.mkdir(`${imTarget}/${name}.d`, { recursive: true });
  await copyEntry(`${imSource}/${name}.d/poll`, `${imTarget}/${name}.d/poll`);
} else if (im === "monitord") {
  await Deno.mkdir(`${imTarget}/${name}.d`, { recursive: true });
  for (const file of ["monitord-client.rb", "monitord-client_control.sh"]) {
    await copyEntry(`${imSource}/${name}.d/${file}`, `${imTarget}/${name}.d/${file}`);
  }
  await copyTree(`${imSource}/${name}-probes.d`, `${imTarget}/${name}-probes.d`);
}
const info = await Deno.readTextFile(`${options.dist}/BUILD_INFO`).catch(() => "");
const mode = /^mode=(\w+)/m.exec(info)?.[1] ?? "unknown";
const IM_TEXT: Record<string, string> = {
  monitord: `Host probes installed into ${imTarget}/${name}.d and ${imTarget}/${name}-probes.d
(OpenNebula 5.12 and later). Add this to /etc/one/monitord.conf and restart opennebula:

IM_MAD = [
    NAME          = "${name}",
    SUNSTONE_NAME = "one-hybrid",
    EXECUTABLE    = "one_im_sh",
    ARGUMENTS     = "-c -t 1 -r 0 -w 600 ${name}" ]

Then add one host per account and region (its name selects the settings in
/etc/one/hybrid_driver.json, which must give it a "capacity"):

  onehost create ${options.host} -i ${name} -v ${name}`,
  legacy: `Host probe installed into ${imTarget}/${name}.d/poll (OpenNebula 4.4 to 5.10). Add this
to /etc/one/oned.conf as well (4.x: -w does not exist, leave it out):

IM_MAD = [
    NAME       = "${name}",
    EXECUTABLE = "one_im_sh",
    ARGUMENTS  = "-c -t 1 -r 0 -w 600 ${name}" ]

Then add one host per account and region (its name selects the settings in
/etc/one/hybrid_driver.json, which must give it a "capacity"):

  onehost create ${options.host} -i ${name} -v ${name}               # 5.x
  onehost create ${options.host} -i ${name} -v ${name} -n dummy      # 4.4-4.14`,
  none: `No host probes installed (--im none): the dummy IM reports the host. Add one host per
account and region (its name selects the settings in /etc/one/hybrid_driver.json):

  onehost create ${options.host} -i dummy -v ${name}                       # 5.x and later
  onehost create ${options.host} -i dummy -v ${name} -n dummy              # 4.x
  onehost create ${options.host} im_dummy vmm_${name} tm_dummy dummy       # 3.2`,
};

console.log(`Installed the ${name} driver (${mode} build) into ${target}

Add this to /etc/one/oned.conf and restart oned (OpenNebula 4.4 and later):

VM_MAD = [
    NAME       = "${name}",
    EXECUTABLE = "one_vmm_sh",
    ARGUMENTS  = "-t 15 -r 0 -p -w 600 ${name}",
    TYPE       = "xml" ]

(OpenNebula 3.2-4.2 syntax: VM_MAD = [ name = "vmm_${name}", executable = "one_vmm_sh",
 arguments = "-t 15 -r 0 ${name}", type = "xml" ]; -p and -w exist from 5.x.)

${IM_TEXT[im]}`);

/** Copies a directory tree, keeping file modes. */
async function copyTree(from: string, to: string): Promise<void> {
  await Deno.mkdir(to, { recursive: true });
  for await (const entry of Deno.readDir(from)) {
    const src = `${from}/${entry.name}`;
    const dst = `${to}/${entry.name}`;
    if (entry.isDirectory) await copyTree(src, dst);
    else await copyEntry(src, dst);
  }
}

/** Copies one file keeping its mode, or a symbolic link as a link to the same target. */
async function copyEntry(src: string, dst: string): Promise<void> {
  if ((await Deno.lstat(src)).isSymlink) {
    await Deno.symlink(await Deno.readLink(src), dst);
    return;
  }
  await Deno.copyFile(src, dst);
  await Deno.chmod(dst, (await Deno.stat(src)).mode! & 0o777);
}
