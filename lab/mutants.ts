/**
 * Breaks the driver on purpose, one behaviour at a time, and checks that the tests notice.
 *
 * Each breakage below names the behaviour it breaks, the file, an exact text that occurs
 * there exactly once, its replacement, and the test files that should catch it. For each one
 * the script edits the file, rebuilds `dist/` (the integration tests run the built actions),
 * runs those test files, records whether they failed (caught) or passed (survived), and puts
 * the file back. A text that no longer occurs exactly once fails the run before anything is
 * edited, so the list stays true as the code changes.
 *
 * Usage: deno task mutants [--only NAME]... [--from N] [--list]
 *
 * --only NAME  run only the breakages whose name contains NAME (repeatable)
 * --from N     start at the Nth breakage (of those chosen), to resume a run
 * --list       check the list against the code, print the names and exit
 *
 * The run decides pass or fail: it ends with the line `mutants: N caught, N survived` (and
 * `, N not built` when some did not build) and exits 1 when any breakage survived or did not
 * build, 2 when the list does not match the code. Files are restored after each breakage, on
 * an error and on Ctrl-C; the script refuses to start while a file it edits has uncommitted
 * changes, so the `git checkout` it uses as a last resort can never lose work. It is an
 * on-demand tool, not part of `deno task test` (a full run takes about a minute per
 * breakage); the list itself is checked there (`tests/mutants_list_test.ts`), so a change that
 * leaves an entry stale fails the ordinary test run.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { parseCli } from "../scripts/cli.ts";

const USAGE = `Usage: deno task mutants [--only NAME]... [--from N] [--list]

Breaks the driver one behaviour at a time and checks that the tests meant for it fail.

  --only NAME  run only the breakages whose name contains NAME (repeatable)
  --from N     start at the Nth breakage (of those chosen), to resume a run
  --list       check the list against the code, print the names and exit

Exit status: 0 every breakage caught, 1 one survived or did not build, 2 bad command line or
a breakage list that does not match the code.`;

/** One deliberate breakage of one behaviour. */
export interface Breakage {
  /** The behaviour that is broken, in words. */
  readonly name: string;
  /** The file edited, relative to the repository root. */
  readonly file: string;
  /** Text that occurs exactly once in the file. */
  readonly find: string;
  /** What it becomes. */
  readonly replace: string;
  /** Further edits of the same file that belong to the same breakage, each also unique. */
  readonly more?: readonly { readonly find: string; readonly replace: string }[];
  /** Test files that should fail with the breakage. */
  readonly tests: readonly string[];
}

const ACTIONS = "tests/actions_test.ts";
const LIFECYCLE = "tests/lifecycle_test.ts";
const LIFECYCLE_4X = "tests/lifecycle_4x_test.ts";
const LOOKUP = "tests/deploy_lookup_test.ts";
const TEMPLATE = "tests/template_test.ts";
const BOUNDED = "tests/bounded_input_test.ts";
const FAILURES = "tests/endpoint_failures_test.ts";
const PROVIDER = "lib/providers/ec2/provider_test.ts";
const CLOUDWATCH = "tests/cloudwatch_usage_test.ts";
const DEB = "tests/deb_test.ts";
const UPGRADE = "tests/builtin_ec2_upgrade_test.ts";

/** The breakages, grouped by the part of the driver they break. */
export const BREAKAGES: readonly Breakage[] = [
  // The action frame.
  {
    name: "the frame exits without draining stdin (oned's writer gets a broken pipe)",
    file: "lib/runtime/action.ts",
    find: "const stdinDone = stdinSettled();",
    replace: "const stdinDone = Promise.resolve();",
    tests: [ACTIONS],
  },
  {
    name: "failure messages skip redaction in the frame",
    file: "lib/runtime/action.ts",
    find: "return redact(oneLine(message));",
    replace: "return oneLine(message);",
    more: [{
      find: "return { code, stdout: redact(output.stdout), stderr: redact(output.stderr) };",
      replace: "return { code, stdout: output.stdout, stderr: output.stderr };",
    }],
    tests: ["lib/runtime/action_test.ts"],
  },
  {
    name: "a successful action's line skips redaction in the frame",
    file: "lib/runtime/action.ts",
    find: 'return result === "" ? "" : `${redact(oneLine(result))}\\n`;',
    replace: 'return result === "" ? "" : `${oneLine(result)}\\n`;',
    more: [{
      find: "return { code, stdout: redact(output.stdout), stderr: redact(output.stderr) };",
      replace: "return { code, stdout: output.stdout, stderr: redact(output.stderr) };",
    }],
    tests: ["lib/runtime/action_test.ts"],
  },
  // Power-off, undeploy and the end of a VM.
  {
    name: "a hard power-off or undeploy is sent without Force",
    file: "lib/providers/ec2/provider.ts",
    find: "...(options.hard ? { Force: true } : {}),",
    replace: "...({}),",
    tests: [LIFECYCLE],
  },
  {
    name: "cancel in a power-off or undeploy state stops softly",
    file: "actions/cancel.ts",
    find: 'return endVm("cancel", argv, true, run);',
    replace: 'return endVm("cancel", argv, false, run);',
    tests: [LIFECYCLE],
  },
  {
    name: "undeploy (LCM 29) terminates the instance instead of keeping it",
    file: "lib/opennebula/lcm.ts",
    find: ': lcmState === LCM_STATE.SHUTDOWN_UNDEPLOY\n    ? "undeploy"',
    replace: ': lcmState === LCM_STATE.SHUTDOWN_UNDEPLOY && Date.now() < 0\n    ? "undeploy"',
    tests: [LIFECYCLE],
  },
  {
    name: "3.2-4.x shutdown without action data terminates without asking oned",
    file: "lib/runtime/end_vm.ts",
    find:
      'const reason = data\n    ? powerOffReason(data.lcmState)\n    : await (await import("../opennebula/oned_lcm.ts")).powerOffReasonByOned(',
    replace:
      "const reason = data\n    ? powerOffReason(data.lcmState)\n    : await { powerOffReasonByOned: (..._: unknown[]) => Promise.resolve(undefined) }.powerOffReasonByOned(",
    tests: [LIFECYCLE_4X],
  },
  {
    name: "4.x delete of a powered-off VM (STATE DONE) is not read as terminate",
    file: "lib/opennebula/lcm.ts",
    find: 'if (state === VM_STATE.DONE) return "terminate";',
    replace: "",
    tests: [LIFECYCLE_4X],
  },
  {
    name: "4.x shutdown in a state oned never ends a VM in terminates instead of failing",
    file: "lib/opennebula/oned_lcm.ts",
    find: "if (end === undefined) {",
    replace: "if (end === undefined && false) {",
    tests: [LIFECYCLE_4X],
  },
  {
    name: "oned's answer about another VM is taken for this VM's",
    file: "lib/opennebula/one_api.ts",
    find: "if (id !== vmId) throw invalid(`the document of VM ${id}`);",
    replace: "",
    tests: ["lib/opennebula/one_api_test.ts"],
  },
  {
    name: "recover --delete of a VM without deploy id terminates nothing",
    file: "lib/runtime/end_vm.ts",
    find: "await provider.terminate(instance.id);",
    replace: "void instance;",
    tests: [LIFECYCLE],
  },
  {
    name:
      "power-off or undeploy of a VM without deploy id terminates the instances found by its tags",
    file: "lib/runtime/end_vm.ts",
    find: "  if (reason) {\n    throw new InvalidInputError(",
    replace: "  if (reason && Date.now() < 0) {\n    throw new InvalidInputError(",
    tests: [LIFECYCLE],
  },
  {
    name: "recover --delete terminates the VM's instances on other hosts too",
    file: "lib/providers/ec2/provider.ts",
    find: "return found.filter((i) => tagOf(i, HOST_TAG) === tagValue(host)).map(toInstance);",
    replace: "return found.map(toInstance);",
    tests: [PROVIDER, LIFECYCLE],
  },
  {
    name: "shutdown of an id the cloud does not know fails instead of counting as done",
    file: "lib/providers/ec2/provider.ts",
    find: 'if (delay === undefined || this.#pastRetryWindow(attempt)) return "gone";',
    replace:
      'if (delay === undefined || this.#pastRetryWindow(attempt)) throw this.#error(error, "x");',
    tests: [ACTIONS],
  },
  // Deploy: tokens, lookup, boot.
  {
    name: "a new deployment file (deployment.1) gets the old token",
    file: "lib/providers/ec2/token.ts",
    find: "    request.deploymentName,\n",
    replace: "",
    tests: [ACTIONS],
  },
  {
    name: "the EC2 launch token ignores the template section",
    file: "lib/providers/ec2/token.ts",
    find: "    Object.entries(section).sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0),\n",
    replace: "",
    tests: ["lib/providers/ec2/token_test.ts"],
  },
  {
    name: "a retried deploy that finds its instance stopped does not start it",
    file: "lib/providers/ec2/provider.ts",
    find: "        await this.#start(instance.id);\n",
    replace: "",
    tests: [ACTIONS],
  },
  {
    name: "an earlier launch is looked for only by the first token",
    file: "lib/providers/ec2/provider.ts",
    find: "for (const candidate of candidates) {\n      const found",
    replace: "for (const candidate of candidates.slice(0, 1)) {\n      const found",
    tests: [LOOKUP],
  },
  {
    name: "IdempotentInstanceTerminated does not move deploy to the next token",
    file: "lib/providers/ec2/provider.ts",
    find: 'new Set(["IdempotentInstanceTerminated", "IdempotentParameterMismatch"])',
    replace: 'new Set(["IdempotentParameterMismatch"])',
    tests: [LOOKUP],
  },
  {
    name: "a launch answered with a terminated instance is returned as the VM's",
    file: "lib/providers/ec2/provider.ts",
    find: "if (launched && !isGone(launched)) return launched;",
    replace: "if (launched) return launched;",
    tests: [PROVIDER, LOOKUP],
  },
  {
    name: "deploy lookup gets no plain request when the endpoint rejects its filters",
    file: "lib/providers/ec2/lookup.ts",
    find: "if (!isUnsupportedRequest(error)) throw error;",
    replace: "throw error;",
    tests: [LOOKUP],
  },
  {
    name: "deploy lookup trusts the endpoint's tag filters (no client-side tag check)",
    file: "lib/providers/ec2/lookup.ts",
    find: "tagOf(i, VM_ID_TAG) === String(vmId) && tagOf(i, DRIVER_TAG) === DRIVER_NAME &&",
    replace: "true &&",
    tests: [PROVIDER, LOOKUP],
  },
  {
    name: "deploy lookup keeps terminated instances (no client-side state check)",
    file: "lib/providers/ec2/lookup.ts",
    find: '    LIVE_STATES.includes(i.State?.Name ?? "")\n',
    replace: "    true\n",
    tests: [PROVIDER, LOOKUP],
  },
  {
    name: "deploy lookup sends no live-states filter",
    file: "lib/providers/ec2/tags.ts",
    find: '    { Name: "instance-state-name", Values: [...LIVE_STATES] },\n',
    replace: "",
    tests: [LOOKUP],
  },
  {
    name: "a failed deploy leaves its instance running (no abandon)",
    file: "lib/providers/ec2/provider.ts",
    find: "        await this.#requestTermination(id);\n        ended.push(id);\n",
    replace: "        ended.push(id);\n",
    tests: [LIFECYCLE],
  },
  {
    name: "a wait for a state fails on throttling instead of polling on",
    file: "lib/providers/ec2/provider.ts",
    find:
      "if (isTransient(error) && error instanceof CloudError) return `unknown (${error.code})`;",
    replace:
      "if (isTransient(error) && error instanceof CloudError && Date.now() < 0) return `unknown (${error.code})`;",
    tests: [PROVIDER, LIFECYCLE],
  },
  {
    name: "ELASTICIP may be taken from another instance (AllowReassociation)",
    file: "lib/providers/ec2/provider.ts",
    find: "AllowReassociation: false,",
    replace: "AllowReassociation: true,",
    tests: [TEMPLATE],
  },
  {
    name: "ELASTICIP already held by the instance is associated again",
    file: "lib/providers/ec2/provider.ts",
    find: "if (found.InstanceId !== instance.id) {",
    replace: "if (true) {",
    tests: [TEMPLATE],
  },
  {
    name: "resume by DEPLOY_ID takes over another VM's instance (no owner check)",
    file: "actions/deploy.ts",
    find: "checkOwner(existing, args.vmId, `resume VM ${args.vmId}`);",
    replace: "",
    tests: [LIFECYCLE, ACTIONS],
  },
  {
    name: "the owner check accepts any VM's instance",
    file: "lib/core/lifecycle.ts",
    find: "if (instance.ownerVmId !== undefined && instance.ownerVmId !== vmId) {",
    replace: "if (false) {",
    tests: [LIFECYCLE],
  },
  {
    name: "resume of a terminated instance starts it instead of launching a new one",
    file: "actions/deploy.ts",
    find: 'if (existing.state !== "terminated" && existing.state !== "terminating") {',
    replace: "if (true) {",
    tests: [LIFECYCLE],
  },
  // Restore.
  {
    name: "restore accepts a checkpoint file written for another VM",
    file: "actions/restore.ts",
    find: "if (checkpoint && checkpoint.vmId !== args.vmId) {",
    replace: "if (checkpoint && checkpoint.vmId !== args.vmId && Date.now() < 0) {",
    tests: [LIFECYCLE],
  },
  {
    name: "restore accepts a checkpoint file naming another instance than oned's",
    file: "actions/restore.ts",
    find: "if (checkpoint && checkpoint.deployId !== deployId) {",
    replace: "if (checkpoint && checkpoint.deployId !== deployId && Date.now() < 0) {",
    tests: [LIFECYCLE],
  },
  // Poll.
  {
    name:
      "an unreadable change mark on the shared listing is taken as no change (a stale listing is served)",
    file: "lib/core/poll_state.ts",
    find: "    } catch (error) {\n      return error instanceof Deno.errors.NotFound;\n",
    replace: "    } catch (error) {\n      return true;\n",
    tests: ["lib/core/poll_state_test.ts"],
  },
  {
    name: "a probe's describe after its own listing is served from that listing, not the cloud",
    file: "lib/core/share_listings.ts",
    find: "if (share.reads && !listedHere) {",
    replace: "if (share.reads) {",
    tests: ["lib/core/share_listings_test.ts"],
  },
  {
    name: "a change is not marked after it is done (a listing taken meanwhile is served)",
    file: "lib/core/share_listings.ts",
    find: "      await share.markChanged().catch(() => {});\n",
    replace: "",
    tests: ["lib/core/share_listings_test.ts"],
  },
  {
    name: "poll reports STATE=d for an unknown id shortly after deploy (grace ignored)",
    file: "actions/poll.ts",
    find: "age !== undefined && age > settings.notFoundGraceSeconds",
    replace: "age !== undefined",
    tests: [ACTIONS],
  },
  {
    name: "poll reports a stopped instance as gone (STATE=d)",
    file: "lib/opennebula/monitoring.ts",
    find: '  stopped: "p",',
    replace: '  stopped: "d",',
    tests: [ACTIONS, "lib/opennebula/monitoring_test.ts"],
  },
  {
    name: "poll reports a shutting-down instance as active",
    file: "lib/providers/ec2/instances.ts",
    find: '  "shutting-down": "terminating",',
    replace: '  "shutting-down": "running",',
    tests: ["lib/providers/ec2/instances_test.ts"],
  },
  {
    name: "poll uses 4.14+ usage keys for OpenNebula 3.2 (no action data)",
    file: "actions/poll.ts",
    find: 'settings.monitoringKeys ?? (data ? "current" : "legacy")',
    replace: 'settings.monitoringKeys ?? "current"',
    tests: [ACTIONS],
  },
  {
    name: "monitoring values are not percent-encoded",
    file: "lib/opennebula/monitoring.ts",
    find: "pairs.push(`${prefix}_${key}=${encodeValue(value)}`);",
    replace: "pairs.push(`${prefix}_${key}=${value}`);",
    tests: ["lib/opennebula/monitoring_test.ts"],
  },
  {
    name: "a deploy id that is not an EC2 id reaches the API",
    file: "lib/providers/ec2/instance_id.ts",
    find: "if (!/^i-(?:[0-9a-f]{8}|[0-9a-f]{17})$/.test(id)) {",
    replace: "if (false) {",
    tests: [ACTIONS],
  },
  {
    name: "InvalidInstanceID.NotFound is not a NotFoundError",
    file: "lib/providers/ec2/errors.ts",
    find:
      "if (NOT_FOUND.has(code)) return new NotFoundError(`${doing}: ${code}: ${raw}`, { cause: error });",
    replace: "",
    tests: [ACTIONS],
  },
  // EC2 answers and secrets.
  {
    name: "an answer that is not EC2's is passed to the SDK",
    file: "lib/providers/ec2/transport.ts",
    find: "if (problem) {",
    replace: "if (problem && Date.now() < 0) {",
    tests: ["lib/providers/ec2/transport_test.ts", FAILURES],
  },
  {
    name: "a cut EC2 answer is taken as whole",
    file: "lib/providers/ec2/transport.ts",
    find: "if (new RegExp(`</${root}>\\\\s*$`).test(document)) return undefined;",
    replace: "return undefined;",
    tests: ["lib/providers/ec2/transport_test.ts"],
  },
  {
    name: "the secret key the SDK's chain resolves is not redacted",
    file: "lib/providers/ec2/sdk_client.ts",
    find: "addSecret(credentials.secretAccessKey);",
    replace: "",
    tests: [FAILURES],
  },
  {
    name: "the session token the SDK's chain resolves is not redacted",
    file: "lib/providers/ec2/sdk_client.ts",
    find: "addSecret(credentials.sessionToken);",
    replace: "",
    tests: [FAILURES],
  },
  {
    name: "only the first occurrence of a secret in a message is redacted",
    file: "lib/util/redact.ts",
    find: 'result = result.split(secret).join("***");',
    replace: 'result = result.replace(secret, "***");',
    tests: ["lib/util/redact_test.ts"],
  },
  {
    name: "a password given alone in an auth file is not registered as a secret",
    file: "lib/util/redact.ts",
    find: "if (colon < 0) addSecret(line);",
    replace: "if (colon < 0) addSecret(undefined);",
    tests: ["lib/providers/one_cloud/settings_test.ts", "lib/opennebula/one_auth_test.ts"],
  },
  {
    name: "a group-readable partner auth file is accepted",
    file: "lib/providers/one_cloud/settings.ts",
    find: "if (mode !== null && (mode & 0o077) !== 0) {",
    replace: "if (mode !== null && (mode & 0o007) !== 0) {",
    tests: ["lib/providers/one_cloud/settings_test.ts"],
  },
  {
    name: "the XML-RPC client follows redirects (the session goes where they point)",
    file: "lib/one_xmlrpc/xmlrpc.ts",
    find: 'redirect: "manual",',
    replace: 'redirect: "follow",',
    tests: ["lib/one_xmlrpc/xmlrpc_test.ts"],
  },
  {
    name: "doctor wraps details before redacting them (a long secret is cut across lines)",
    file: "actions/doctor.ts",
    find: "formatTable(rows.map(redactRow))",
    replace: "formatTable(rows)",
    tests: ["tests/partner_doctor_test.ts"],
  },
  {
    name: "a configuration key that may be a pasted secret is quoted back",
    file: "lib/util/suggest.ts",
    find: "return NAME_LIKE.test(key)",
    replace: 'return NAME_LIKE.test("key")',
    tests: ["lib/core/config_test.ts"],
  },
  // Input checks.
  {
    name: "unknown template keys are accepted",
    file: "lib/providers/ec2/template_keys.ts",
    find: "if (LAUNCH.has(key)) return undefined;",
    replace: "return undefined;",
    tests: ["lib/providers/ec2/launch_spec_test.ts", "lib/core/config_test.ts"],
  },
  {
    // Reads ask for one byte more than the limit allows; both move, or the read loops forever.
    name: "bounded reads accept one byte over the limit",
    file: "lib/util/bounded_read.ts",
    find: "if (total > limit) throw",
    replace: "if (total > limit + 1) throw",
    more: [{
      find: "Math.min(CHUNK_BYTES, limit + 1 - total)",
      replace: "Math.min(CHUNK_BYTES, limit + 2 - total)",
    }],
    tests: ["lib/util/bounded_read_test.ts"],
  },
  {
    name: "bounded reads never time out",
    file: "lib/util/bounded_read.ts",
    find: "      seconds * 1000,\n",
    replace: "      seconds * 1000 * 60,\n",
    tests: ["lib/util/bounded_read_test.ts"],
  },
  {
    name: "numeric settings below their range are accepted",
    file: "lib/core/config.ts",
    find: "value < range.min ||",
    replace: "false ||",
    tests: ["lib/core/config_test.ts"],
  },
  {
    name: "without METADATA_HTTP_TOKENS the instance allows IMDSv1",
    file: "lib/providers/ec2/template_rows.ts",
    find: '(spec.contextFormat === "shell" ? SHELL_CONTEXT_HTTP_TOKENS : DEFAULT_HTTP_TOKENS)',
    replace: '"optional"',
    tests: ["lib/providers/ec2/run_input_test.ts", TEMPLATE],
  },
  // The deadline as budget, exact requests, lost answers (issue 18).
  {
    name: "requests share kept-alive connections (node:http resends a request unseen)",
    file: "lib/providers/ec2/api.ts",
    find: "httpAgent: { keepAlive: false },",
    replace: "httpAgent: { keepAlive: true },",
    tests: ["tests/exact_requests_test.ts"],
  },
  {
    name: "a RunInstances whose answer was lost is sent again blindly",
    file: "lib/providers/ec2/api.ts",
    find: 'const NOT_RESENT: ReadonlySet<CallName> = new Set(["runInstances", "createImage"]);',
    replace: "const NOT_RESENT: ReadonlySet<CallName> = new Set([]);",
    tests: ["tests/exact_requests_test.ts"],
  },
  {
    name: "throttling is not asked again: it fails the call at once",
    file: "lib/util/retry.ts",
    find: 'const again = kind === "throttled" || kind === "unsent" ||',
    replace: 'const again = kind === "unsent" ||',
    tests: ["tests/exact_requests_test.ts", LIFECYCLE],
  },
  {
    name: "a lost RunInstances answer is not looked for by its tags before sending it again",
    file: "lib/providers/ec2/provider.ts",
    find: "        if (found) return toInstance(found);\n        if (!await this.#pauseToResend",
    replace: "        void found;\n        if (!await this.#pauseToResend",
    tests: [PROVIDER],
  },
  {
    name: "the second instance a lost RunInstances launched is kept after a successful deploy",
    file: "lib/providers/ec2/provider.ts",
    find: "if (lost.size > 0) await this.#terminateLost(request.vmId, lost, instance.id, false);",
    replace: "void lost;",
    tests: [PROVIDER],
  },
  {
    name: "a failed deploy does not look for what its lost RunInstances launched",
    file: "lib/providers/ec2/provider.ts",
    find: "        if (lost.size === 0) return undefined;",
    replace: "        if (lost.size >= 0) return undefined;",
    tests: [PROVIDER],
  },
  {
    name: "an answer that leaves a new instance out fails the deploy's wait",
    file: "lib/providers/ec2/provider.ts",
    find: 'if (isMissingFromAnswer(error)) return "left out of the answer";',
    replace: "if (isMissingFromAnswer(error)) throw error;",
    tests: [PROVIDER],
  },
  {
    name: "a terminate whose answers were lost does not ask after the instance",
    file: "lib/providers/ec2/provider.ts",
    find: "if (seen === undefined || !isGone(seen)) throw error;",
    replace: "if (seen === undefined || !isGone(seen) || Date.now() > 0) throw error;",
    tests: [PROVIDER],
  },
  {
    name: "a checkpoint whose CreateImage answer was lost makes a second image",
    file: "lib/providers/ec2/provider.ts",
    find: "        if (earlier !== undefined) return earlier;",
    replace: "        void earlier;",
    tests: [PROVIDER],
  },
  {
    name: "partner reads are not asked again after a lost answer",
    file: "lib/providers/one_cloud/api.ts",
    find: 'classify: (error) => read && isTransient(error) ? "lost" : undefined,',
    replace: "classify: () => undefined,",
    tests: ["tests/partner_reliability_test.ts"],
  },
  {
    name: "partner reads answered xmlrpc-c's timeout fault (-505) are not asked again",
    file: "lib/providers/one_cloud/failures.ts",
    find: "if (error instanceof XmlRpcFault) return error.faultCode === XMLRPC_C_FAULT.TIMEOUT;",
    replace: "if (error instanceof XmlRpcFault) return false;",
    tests: ["lib/providers/one_cloud/api_test.ts"],
  },
  {
    name: "partner reads answered REPLICATION are not asked again",
    file: "lib/providers/one_cloud/failures.ts",
    find: "if (error instanceof OneApiError) return Number(error.code) === ONE_ERROR.REPLICATION;",
    replace: "if (error instanceof OneApiError) return false;",
    tests: ["lib/providers/one_cloud/api_test.ts"],
  },
  {
    name: "a partner fault -505 worded 'not defined' is taken for an unknown method",
    file: "lib/providers/one_cloud/failures.ts",
    find: "return fault !== undefined && fault.faultCode !== XMLRPC_C_FAULT.TIMEOUT &&",
    replace: "return fault !== undefined &&",
    tests: ["lib/providers/one_cloud/failures_test.ts"],
  },
  {
    name: "a partner VM found locked is refused in the partner's words only",
    file: "lib/providers/one_cloud/failures.ts",
    find: "if (locked && (locked.lock !== undefined || code === ONE_ERROR.LOCKED)) {",
    replace: "if (locked && code === ONE_ERROR.INTERNAL) {",
    tests: ["lib/providers/one_cloud/api_test.ts", "tests/partner_refusals_test.ts"],
  },
  {
    name: "a partner's quota refusal of a resume reads as a wrong state",
    file: "lib/providers/one_cloud/failures.ts",
    find: "if (code === ONE_ERROR.ACTION && quota) {",
    replace: "if (code === ONE_ERROR.INTERNAL && quota) {",
    tests: ["lib/providers/one_cloud/api_test.ts", "lib/providers/one_cloud/failures_test.ts"],
  },
  {
    name: "a partner deploy whose VM fails to boot leaves it on the partner (no clean-up)",
    file: "lib/providers/one_cloud/provider.ts",
    find:
      '          await this.#perform(id, "terminate", "terminated");\n          return `partner VM',
    replace: "          return `partner VM",
    tests: ["lib/providers/one_cloud/provider_test.ts", "tests/partner_cloud_test.ts"],
  },
  {
    name:
      "a partner VM in PROLOG, BOOT or migrating is sent terminate-hard, which 5.0+ refuse there",
    file: "lib/providers/one_cloud/action_names.ts",
    find: '    return { send: "terminate-hard" };\n  }\n  return settledOrWait(state);',
    replace: '    return { send: "terminate-hard" };\n  }\n  return { send: "terminate-hard" };',
    tests: [
      "lib/providers/one_cloud/provider_test.ts",
      "lib/providers/one_cloud/action_names_test.ts",
      "tests/partner_releases_test.ts",
    ],
  },
  {
    name: "a 4.14 partner is sent terminate-hard, a name it does not have",
    file: "lib/providers/one_cloud/action_names.ts",
    find: "  if (!atLeast(release, 5, 0)) {",
    replace: "  if (release.major < 0) {",
    tests: [
      "lib/providers/one_cloud/provider_test.ts",
      "lib/providers/one_cloud/action_names_test.ts",
      "tests/partner_releases_test.ts",
    ],
  },
  {
    name: "a hard power-off takes over a soft one on 4.14 and 5.x too, which refuse it",
    file: "lib/providers/one_cloud/action_names.ts",
    find: "    if (atLeast(release, 6, 0)) return { send: intent };",
    replace: "    return { send: intent };",
    tests: [
      "lib/providers/one_cloud/provider_test.ts",
      "lib/providers/one_cloud/action_names_test.ts",
      "tests/partner_releases_test.ts",
    ],
  },
  {
    name: "a kept partner release is not asked again when the partner refuses the name it chose",
    file: "lib/providers/one_cloud/provider.ts",
    find: "      if (!release?.kept || !isRefusal(error)) throw error;",
    replace: '      if (!release?.kept || !isRefusal(error) || name !== "") throw error;',
    tests: ["lib/providers/one_cloud/provider_test.ts", "tests/partner_releases_test.ts"],
  },
  {
    name: "a wait for a state polls at the first pause throughout (no back-off)",
    file: "lib/core/provider_kit.ts",
    find: "interval = Math.min(interval * 1.5, MAX_POLL_INTERVAL_MS);",
    replace: "interval = Math.min(interval, MAX_POLL_INTERVAL_MS);",
    tests: ["lib/core/provider_kit_test.ts"],
  },
  {
    name: "XML CDATA sections are dropped",
    file: "lib/util/xml.ts",
    find: 'top.text.push(r.readUntil("]]>", "CDATA section", r.pos - 9));',
    replace: 'r.readUntil("]]>", "CDATA section", r.pos - 9);',
    tests: ["lib/util/xml_test.ts"],
  },
  {
    name: "stdin over its limit is taken for no action data",
    file: "lib/opennebula/stdin.ts",
    find: "        ? { error: `Standard input is ${error.reason}` }\n",
    replace: '        ? { text: "" }\n',
    tests: [BOUNDED],
  },
  {
    name:
      "a pool page read after VMs before it ended is taken as it is (rows that moved back are missed)",
    file: "lib/one_xmlrpc/pool_pages.ts",
    find: "if (offset > 0 && (ids.length === 0 || past(ids[0]!))) {",
    replace: "if (offset < 0) {",
    tests: ["lib/one_xmlrpc/pool_pages_test.ts"],
  },
  {
    name: "a partner VM is counted against the CPU quota by its VCPU, not the CPU oned charges",
    file: "lib/core/capacity.ts",
    find: "return asSize(instance.charged) ?? sizeIn(sizes, instance);",
    replace: "return sizeIn(sizes, instance);",
    tests: ["tests/partner_capacity_test.ts"],
  },
  // Usage figures from CloudWatch.
  {
    name: "CPU is reported as CloudWatch's percentage, not times the vCPUs (100 per busy CPU)",
    file: "lib/core/usage.ts",
    find: "{ cpu: latest.value * vcpus, cpuAt: latest.at }",
    replace: "{ cpu: latest.value, cpuAt: latest.at }",
    tests: ["lib/core/usage_test.ts", CLOUDWATCH],
  },
  {
    name: "a period read again adds its whole value to the byte counters (counted twice)",
    file: "lib/core/usage.ts",
    find: "total += point.value - before;",
    replace: "total += point.value;",
    tests: ["lib/core/usage_test.ts", CLOUDWATCH],
  },
  {
    name: "the host's usage memory is never fresh: every run reads CloudWatch",
    file: "lib/core/usage_state.ts",
    find: "return last <= now && now - last < this.#options.periodSeconds * 1000;",
    replace: "return false;",
    tests: ["lib/core/usage_state_test.ts", CLOUDWATCH],
  },
  {
    name: "GetMetricData asks for more than CloudWatch's 500 metrics a request",
    file: "lib/providers/ec2/cloudwatch.ts",
    find: "export const INSTANCES_PER_REQUEST = Math.floor(MAX_QUERIES / METRICS.length);",
    replace: "export const INSTANCES_PER_REQUEST = 200;",
    tests: ["lib/providers/ec2/cloudwatch_test.ts", CLOUDWATCH],
  },
  {
    name: "CloudWatch is read for hosts that did not ask for it (billed by default)",
    file: "lib/providers/ec2/settings.ts",
    find: 'if (read.flag("cloudWatch")) connection.cloudWatch = true;',
    replace: 'if (read.flag("cloudWatch") ?? true) connection.cloudWatch = true;',
    tests: ["lib/providers/ec2/settings_test.ts", CLOUDWATCH],
  },
  {
    name: "a stopped VM is reported with CPU and network figures",
    file: "lib/opennebula/monitoring.ts",
    find: 'if (usage !== undefined && state === "a") pairs.push(...usagePairs(usage, keys));',
    replace: "if (usage !== undefined) pairs.push(...usagePairs(usage, keys));",
    tests: ["lib/opennebula/monitoring_test.ts"],
  },
  {
    name: "OpenNebula 3.2-4.12 get CPU under 4.14's key",
    file: "lib/opennebula/monitoring.ts",
    find: "? `USEDCPU=${Math.round(usage.cpu)}`",
    replace: "? `CPU=${Math.round(usage.cpu)}`",
    tests: ["lib/opennebula/monitoring_test.ts", CLOUDWATCH],
  },
  // A host's settings from its OpenNebula template (issue 21).
  {
    name: "a host's template wins over its configuration file",
    file: "lib/core/template_settings.ts",
    find: "t.decidedBy.every((key) => file[key] === undefined || file[key] === false)",
    replace: "t.decidedBy.length > 0",
    tests: ["lib/core/template_settings_test.ts", "tests/doctor_test.ts"],
  },
  {
    name: "a host whose file decides every setting still asks oned for its template",
    file: "lib/core/template_settings.ts",
    find: "(wanted.length === 0 && !source.always)",
    replace: "false",
    tests: ["lib/core/template_settings_test.ts", "tests/host_template_test.ts"],
  },
  {
    name: "oned is not asked to decrypt the host's template (5.10+)",
    file: "lib/opennebula/host_template.ts",
    find: "await oneCall(client, method, session, hostId, true)",
    replace: "await oneCall(client, method, session, hostId)",
    tests: ["lib/opennebula/host_template_test.ts", "tests/host_template_test.ts"],
  },
  {
    name: "keys oned answers encrypted (5.4–5.8) are used encrypted",
    file: "lib/opennebula/host_template.ts",
    find: "if (still.length > 0) {",
    replace: "if (still.length < 0) {",
    tests: ["lib/opennebula/host_template_test.ts", "tests/host_template_test.ts"],
  },
  {
    name: "a template's secret is not registered for redaction when it is read",
    file: "lib/opennebula/host_template.ts",
    find: "for (const name of request.secrets) addSecret(attributes[name]?.trim());",
    replace: "",
    tests: ["lib/opennebula/host_template_test.ts"],
  },
  {
    name: "the host id oned names is ignored: every action looks the host up by name",
    file: "lib/runtime/template_source.ts",
    find: "const id = hostId ?? await hostIdFromStdin(host);",
    replace: "const id = hostId ?? await hostIdFromStdin(host).then(() => undefined);",
    tests: ["tests/host_template_test.ts"],
  },
  {
    name: "OpenNebula's cipher is keyed with other bytes of ONE_KEY than its first 32",
    file: "lib/opennebula/one_crypt.ts",
    find: "return bytes.length < KEY_BYTES ? undefined : bytes.subarray(0, KEY_BYTES);",
    replace:
      "return bytes.length < KEY_BYTES ? undefined : bytes.subarray(bytes.length - KEY_BYTES);",
    tests: ["lib/opennebula/one_crypt_test.ts"],
  },
  {
    name: "doctor's sources row leaves out what came from the host's template",
    file: "lib/core/sources_check.ts",
    find: 'else add("host template", `${setting} (${origin.attribute})`);',
    replace: "else void origin;",
    tests: ["tests/doctor_test.ts"],
  },
  // The Debian package (tests/deb_test.ts installs it with dpkg --root: as root).
  {
    name: "the package's upgrade installs as a first install, forgetting the recorded options",
    file: "scripts/deb/postinst",
    find: 'options=$(cat "$runtime/$name/options" 2>/dev/null) || options=',
    replace: "options=",
    tests: [DEB],
  },
  {
    name: "an upgrade the installer refused leaves the package configured",
    file: "scripts/deb/postinst",
    find: "  exit $status\n",
    replace: "  exit 0\n",
    tests: [DEB],
  },
  {
    name: "the package's configuration stays root's",
    file: "scripts/deb/postinst",
    find: '    chown oneadmin:"$(id -gn oneadmin)" "$config"\n',
    replace: "",
    tests: [DEB],
  },
  {
    name: "removing the package leaves the driver in OpenNebula",
    file: "scripts/deb/prerm",
    find: "remove)\n",
    replace: "remove) exit 0 ;;\nnever)\n",
    tests: [DEB],
  },
  {
    name: "the configuration is not a conffile (an upgrade overwrites the operator's)",
    file: "scripts/build_deb.ts",
    find: "`/${CONFIG}\\n`",
    replace: '""',
    tests: [DEB],
  },
  {
    name: "the package has no trigger (OpenNebula's package arriving later installs nothing)",
    file: "scripts/build_deb.ts",
    find: '"interest-noawait /var/lib/one/remotes\\n"',
    replace: '""',
    tests: [DEB],
  },
  // The way over from OpenNebula's built-in EC2 driver.
  {
    name: "the built-in EC2 driver's instances are offered for import when not adopted",
    file: "lib/opennebula/im_probes.ts",
    find: "WILD_STATES.has(instance.state) && instance.recordedVmId === undefined",
    replace: "WILD_STATES.has(instance.state)",
    tests: [UPGRADE, "lib/opennebula/im_probes_test.ts"],
  },
  {
    name: "an instance is adopted for the VM its ONE_ID names whatever oned's deploy id of it",
    file: "lib/opennebula/adoption.ts",
    find: "if (vm?.deployId !== instance.id || vm.host !== host) continue;",
    replace: "if (vm === undefined || vm.host !== host) continue;",
    tests: [UPGRADE, "lib/opennebula/adoption_test.ts"],
  },
  {
    name: "an instance is adopted while its VM is being moved to another host",
    file: "lib/opennebula/adoption.ts",
    find: "if (SETTLED_STATES.has(stateLabel(vm.state, vm.lcmState))) chosen.push",
    replace: "if (stateLabel(vm.state, vm.lcmState)) chosen.push",
    tests: [UPGRADE, "lib/opennebula/adoption_test.ts"],
  },
  {
    name: "host/system adopts nothing (the built-in driver's instances stay unmarked)",
    file: "actions/im_probes.ts",
    find: "  const notes = [...s.notes];\n  await adoptAll(s, notes);\n",
    replace: "  const notes = [...s.notes];\n",
    tests: [UPGRADE],
  },
];

const ROOT = new URL("..", import.meta.url).pathname;
const TEST_FLAGS = [
  "test",
  "--allow-read",
  "--allow-write",
  "--allow-run",
  "--allow-env",
  "--allow-net=127.0.0.1",
];
/** Longest a breakage's test run may take; a hang counts as caught, and is shown as such. */
const TEST_TIMEOUT_MS = 15 * 60 * 1000;

/** What became of one breakage. */
export interface Outcome {
  readonly breakage: Breakage;
  readonly result: "caught" | "caught (timed out)" | "survived" | "not built";
  readonly seconds: number;
  readonly log: string;
}

/**
 * The problems that keep a breakage list from being applied: texts not found exactly once,
 * replacements that change nothing, duplicate names, missing files.
 *
 * @param list The breakages to check.
 * @returns One line per problem; empty when every breakage can be applied.
 */
export function checkList(list: readonly Breakage[]): string[] {
  const problems: string[] = [];
  const names = new Set<string>();
  for (const b of list) {
    if (names.has(b.name)) problems.push(`duplicate name: ${b.name}`);
    names.add(b.name);
    let text: string;
    try {
      text = Deno.readTextFileSync(`${ROOT}${b.file}`);
    } catch {
      problems.push(`${b.name}: cannot read ${b.file}`);
      continue;
    }
    for (const edit of [{ find: b.find, replace: b.replace }, ...(b.more ?? [])]) {
      const count = text.split(edit.find).length - 1;
      if (count !== 1) {
        problems.push(
          `${b.name}: ${JSON.stringify(edit.find)} occurs ${count} times in ${b.file}, not once`,
        );
      }
      if (edit.find === edit.replace) problems.push(`${b.name}: the replacement changes nothing`);
    }
    for (const test of b.tests) {
      try {
        Deno.statSync(`${ROOT}${test}`);
      } catch {
        problems.push(`${b.name}: no test file ${test}`);
      }
    }
  }
  return problems;
}

/** Runs a command in the repository; its exit code and combined output. */
async function run(
  command: string,
  args: string[],
  signal?: AbortSignal,
): Promise<{ code: number; output: string }> {
  const child = new Deno.Command(command, {
    args,
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  const kill = () => {
    try {
      child.kill("SIGKILL");
    } catch {
      // Already ended.
    }
  };
  signal?.addEventListener("abort", kill);
  running.add(kill);
  try {
    const out = await child.output();
    const decoder = new TextDecoder();
    return { code: out.code, output: decoder.decode(out.stdout) + decoder.decode(out.stderr) };
  } finally {
    running.delete(kill);
    signal?.removeEventListener("abort", kill);
  }
}

/** Kills of the child processes now running, for Ctrl-C. */
const running = new Set<() => void>();

/** Files edited and not yet restored, with their original text. */
const edited = new Map<string, string>();

/** Puts every edited file back: its original text, else git's copy. */
function restoreAll(): void {
  for (const [file, original] of edited) {
    try {
      Deno.writeTextFileSync(`${ROOT}${file}`, original);
    } catch {
      new Deno.Command("git", { args: ["checkout", "--", file], cwd: ROOT }).outputSync();
    }
    const same = new Deno.Command("git", { args: ["diff", "--quiet", "--", file], cwd: ROOT })
      .outputSync();
    if (!same.success) {
      new Deno.Command("git", { args: ["checkout", "--", file], cwd: ROOT }).outputSync();
    }
    edited.delete(file);
  }
}

/** Whole seconds since a time. */
function seconds(since: number): number {
  return Math.round((Date.now() - since) / 1000);
}

/** Applies one breakage, builds, runs its tests, and restores the file. */
async function tryBreakage(b: Breakage, logDir: string): Promise<Outcome> {
  const path = `${ROOT}${b.file}`;
  const original = await Deno.readTextFile(path);
  const started = Date.now();
  const log = `${logDir}/${b.name.replace(/[^A-Za-z0-9]+/g, "_").slice(0, 80)}.log`;
  try {
    let text = original;
    for (const edit of [{ find: b.find, replace: b.replace }, ...(b.more ?? [])]) {
      text = text.replace(edit.find, () => edit.replace);
    }
    edited.set(b.file, original);
    await Deno.writeTextFile(path, text);
    const build = await run(Deno.execPath(), ["task", "build"]);
    if (build.code !== 0) {
      // A breakage that does not build proves nothing: the list needs fixing.
      await Deno.writeTextFile(log, build.output);
      return { breakage: b, result: "not built", seconds: seconds(started), log };
    }
    const timeout = AbortSignal.timeout(TEST_TIMEOUT_MS);
    const tests = await run(Deno.execPath(), [...TEST_FLAGS, ...b.tests], timeout);
    await Deno.writeTextFile(log, tests.output);
    const result = timeout.aborted
      ? "caught (timed out)"
      : tests.code !== 0
      ? "caught"
      : "survived";
    return { breakage: b, result, seconds: seconds(started), log };
  } finally {
    restoreAll();
  }
}

/** Whether git reports changes to a file, staged or not. */
function hasChanges(file: string): boolean {
  const out = new Deno.Command("git", {
    args: ["status", "--porcelain", "--", file],
    cwd: ROOT,
  }).outputSync();
  return new TextDecoder().decode(out.stdout).trim() !== "";
}

/**
 * The run's last line, which says pass or fail in figures: `mutants: N caught, N survived`,
 * with `, N not built` added when a breakage did not build.
 *
 * @param results The result of each breakage run.
 * @returns The line.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { closingLine } from "./mutants.ts";
 * assert.equal(closingLine(["caught", "caught (timed out)", "survived"]), "mutants: 2 caught, 1 survived");
 * assert.equal(closingLine(["caught", "not built"]), "mutants: 1 caught, 0 survived, 1 not built");
 * ```
 */
export function closingLine(results: readonly Outcome["result"][]): string {
  const caught = results.filter((r) => r.startsWith("caught")).length;
  const survived = results.filter((r) => r === "survived").length;
  const notBuilt = results.filter((r) => r === "not built").length;
  return `mutants: ${caught} caught, ${survived} survived${
    notBuilt > 0 ? `, ${notBuilt} not built` : ""
  }`;
}

async function main(): Promise<number> {
  const { values } = parseCli("mutants", USAGE, () =>
    parseArgs({
      args: Deno.args,
      options: {
        only: { type: "string", multiple: true },
        list: { type: "boolean", default: false },
        from: { type: "string" },
      },
    }));
  const problems = checkList(BREAKAGES);
  if (problems.length > 0) {
    console.error(`The breakage list does not match the code:\n  ${problems.join("\n  ")}`);
    console.error(
      `mutants: the list does not match the code (${problems.length} problem${
        problems.length === 1 ? "" : "s"
      }); update the entries in lab/mutants.ts`,
    );
    return 2;
  }
  if (values.list) {
    for (const b of BREAKAGES) console.log(b.name);
    console.log(`mutants: the list matches the code (${BREAKAGES.length} breakages)`);
    return 0;
  }
  const only = values.only ?? [];
  const from = Number(values.from ?? "1");
  if (!Number.isInteger(from) || from < 1 || from > BREAKAGES.length) {
    console.error(`--from must be a breakage number from 1 to ${BREAKAGES.length}`);
    return 2;
  }
  const chosen =
    (only.length === 0 ? BREAKAGES : BREAKAGES.filter((b) => only.some((o) => b.name.includes(o))))
      .slice(from - 1);
  if (chosen.length === 0) {
    console.error(`No breakage name contains ${only.map((o) => JSON.stringify(o)).join(" or ")}`);
    return 2;
  }
  const dirty = [...new Set(chosen.map((b) => b.file))].filter(hasChanges);
  if (dirty.length > 0) {
    console.error(
      `Commit or stash the changes to ${dirty.join(", ")} first: the script edits these files`,
    );
    return 2;
  }

  const interrupted = () => {
    for (const kill of running) kill();
    restoreAll();
    console.error(
      "\nInterrupted; every edited file is restored (rebuild dist/ with deno task build)",
    );
    Deno.exit(130);
  };
  Deno.addSignalListener("SIGINT", interrupted);
  Deno.addSignalListener("SIGTERM", interrupted);

  const logDir = await Deno.makeTempDir({ prefix: "mutants-" });
  const outcomes: Outcome[] = [];
  try {
    for (const [index, b] of chosen.entries()) {
      console.log(`[${index + 1}/${chosen.length}] ${b.name} (${b.file})`);
      const outcome = await tryBreakage(b, logDir);
      console.log(`  ${outcome.result} in ${outcome.seconds} s`);
      outcomes.push(outcome);
    }
  } finally {
    restoreAll();
    // dist/ must again be built from the code as it is.
    const build = await run(Deno.execPath(), ["task", "build"]);
    if (build.code !== 0) console.error(`Rebuilding dist/ failed:\n${build.output}`);
  }

  const width = Math.max(...outcomes.map((o) => o.breakage.name.length));
  console.log(`\n${"Breakage".padEnd(width)}  Result`);
  for (const o of outcomes) console.log(`${o.breakage.name.padEnd(width)}  ${o.result}`);
  const failed = outcomes.filter((o) => !o.result.startsWith("caught"));
  for (const o of failed) {
    console.log(
      `${
        o.result === "survived" ? "Survived" : "Not built"
      }: ${o.breakage.name}\n  ${o.breakage.file}; tests: ${
        o.breakage.tests.join(" ")
      }; log: ${o.log}`,
    );
  }
  console.log(`Test logs: ${logDir}`);
  console.log(closingLine(outcomes.map((o) => o.result)));
  return failed.length === 0 ? 0 : 1;
}

if (import.meta.main) Deno.exit(await main());
