import assert from "node:assert/strict";
import { InvalidInputError } from "../util/errors.ts";
import { MAX_DEPLOYMENT_FILE_BYTES, readDeploymentFile } from "./deployment_file.ts";

const XML = "<VM><ID>7</ID><TEMPLATE/></VM>";
const stdinOf = (text: string) => () => Promise.resolve(text);

Deno.test("readDeploymentFile() reads the file when it is there, and stdin when it is not", async () => {
  const path = await Deno.makeTempFile();
  try {
    await Deno.writeTextFile(path, XML);
    assert.equal(await readDeploymentFile(path, stdinOf("")), XML);
  } finally {
    await Deno.remove(path);
  }
  assert.equal(await readDeploymentFile(path, stdinOf(btoa(XML))), XML);
});

Deno.test("readDeploymentFile() refuses a file over its limit instead of turning to stdin", async () => {
  const path = await Deno.makeTempFile();
  try {
    await Deno.writeTextFile(path, `${XML}${" ".repeat(MAX_DEPLOYMENT_FILE_BYTES)}`);
    await assert.rejects(
      readDeploymentFile(path, stdinOf(btoa(XML))),
      new InvalidInputError(`Cannot read deployment file ${path}: larger than the 4 MiB limit`),
    );
  } finally {
    await Deno.remove(path);
  }
  await assert.rejects(
    readDeploymentFile("/dev/zero", stdinOf(btoa(XML))),
    new InvalidInputError("Cannot read deployment file /dev/zero: larger than the 4 MiB limit"),
  );
});

Deno.test("readDeploymentFile() names both the file's and standard input's problem", async () => {
  const stdinTooLarge = () =>
    Promise.reject(new InvalidInputError("Standard input is larger than the 8 MiB limit"));
  await assert.rejects(
    readDeploymentFile("/nonexistent/deployment.0", stdinTooLarge),
    new InvalidInputError(
      "Cannot read deployment file /nonexistent/deployment.0: no such file, and standard input is larger than the 8 MiB limit",
    ),
  );
  await assert.rejects(
    readDeploymentFile("/nonexistent/deployment.0", stdinOf("")),
    new InvalidInputError(
      "Cannot read deployment file /nonexistent/deployment.0: no such file, and standard input is empty",
    ),
  );
});

Deno.test("readDeploymentFile() replaces the runtime's refusal of system paths with its own words", async () => {
  await assert.rejects(
    readDeploymentFile("/proc/self/environ", stdinOf("")),
    new InvalidInputError(
      "Cannot read deployment file /proc/self/environ: the driver may not open device or system files, and standard input is empty",
    ),
  );
});
