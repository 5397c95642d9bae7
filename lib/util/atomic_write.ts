/**
 * Writing a file so that a reader sees the old content or the new, never a part: the text goes
 * to a temporary file beside it, which is then renamed over it.
 *
 * @module
 */

/**
 * Writes a text file atomically, creating its directory when missing. The temporary file is
 * removed when anything fails.
 *
 * @param path The file.
 * @param text Its new content.
 * @param options `mode` of the file, `dirMode` of a directory it creates.
 * @throws whatever the runtime throws for the directory, the write or the rename.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { writeTextAtomically } from "./atomic_write.ts";
 * const dir = await Deno.makeTempDir();
 * await writeTextAtomically(`${dir}/a/state.json`, "{}\n", { mode: 0o600 });
 * assert.equal(await Deno.readTextFile(`${dir}/a/state.json`), "{}\n");
 * assert.deepEqual([...Deno.readDirSync(`${dir}/a`)].map((e) => e.name), ["state.json"]);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function writeTextAtomically(
  path: string,
  text: string,
  options: { readonly mode?: number; readonly dirMode?: number } = {},
): Promise<void> {
  const slash = path.lastIndexOf("/");
  const dir = slash > 0 ? path.slice(0, slash) : slash === 0 ? "/" : ".";
  const temporary = `${path}.tmp-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
  try {
    await Deno.mkdir(dir, {
      recursive: true,
      ...(options.dirMode !== undefined ? { mode: options.dirMode } : {}),
    });
    await Deno.writeTextFile(
      temporary,
      text,
      options.mode !== undefined ? { mode: options.mode } : {},
    );
    await Deno.rename(temporary, path);
  } catch (error) {
    await Deno.remove(temporary).catch(() => {});
    throw error;
  }
}
