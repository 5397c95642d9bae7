import assert from "node:assert/strict";
import { Ec2Error } from "./errors.ts";
import { applyFilters, wildcard } from "./filters.ts";
import { paginate, readPageRequest } from "./pagination.ts";
import { filtersOf, parseQuery, stringList, structList, tagsOf } from "./query.ts";
import { el, escapeXml, list } from "./xml.ts";

Deno.test("parseQuery decodes form encoding and rejects a broken percent escape", () => {
  assert.deepEqual(parseQuery("Action=RunInstances&Tag.1.Value=a+b%26c%3D&Empty="), {
    Action: "RunInstances",
    "Tag.1.Value": "a b&c=",
    Empty: "",
  });
  assert.throws(
    () => parseQuery("Action=%E0%A4%A"),
    (e: unknown) => e instanceof Ec2Error && e.code === "MalformedQueryString",
  );
});

Deno.test("flattened lists are read in index order, nested lists included", () => {
  const params = parseQuery(
    "InstanceId.2=i-b&InstanceId.1=i-a&InstanceId.10=i-c" +
      "&Filter.2.Name=tag:Name&Filter.2.Value.1=web&Filter.1.Name=instance-state-name" +
      "&Filter.1.Value.2=stopped&Filter.1.Value.1=running" +
      "&TagSpecification.1.ResourceType=instance&TagSpecification.1.Tag.1.Key=k",
  );
  assert.deepEqual(stringList(params, "InstanceId"), ["i-a", "i-b", "i-c"]);
  assert.deepEqual(filtersOf(params), [
    { name: "instance-state-name", values: ["running", "stopped"] },
    { name: "tag:Name", values: ["web"] },
  ]);
  const [spec] = structList(params, "TagSpecification");
  assert.deepEqual(tagsOf(spec!), [{ key: "k", value: "" }]);
  assert.throws(() => stringList(parseQuery("InstanceId.0=i-a"), "InstanceId"), Ec2Error);
});

Deno.test("filter wildcards match * and ? and honour backslash escapes", () => {
  assert.ok(wildcard("web-*")("web-01"));
  assert.ok(wildcard("t3.?icro")("t3.micro"));
  assert.ok(!wildcard("web-*")("db-01"));
  assert.ok(wildcard("a\\*b")("a*b"));
  assert.ok(!wildcard("a\\*b")("axxb"));
  const items = [{ n: "a", t: new Map([["env", "prod"]]) }, { n: "b", t: new Map() }];
  const spec = { fields: { n: (i: { n: string }) => i.n }, tags: (i: typeof items[0]) => i.t };
  assert.deepEqual(applyFilters(items, [{ name: "tag-key", values: ["env"] }], spec), [items[0]]);
  assert.throws(() => applyFilters(items, [{ name: "bogus", values: ["x"] }], spec), /bogus/);
});

Deno.test("a NextToken resumes after the last item and only for the query it was issued for", () => {
  const items = [1, 2, 3, 4, 5, 6, 7];
  const first = paginate(
    items,
    (n) => n,
    readPageRequest({ MaxResults: "5" }, { min: 5, max: 9 }, "q"),
    "q",
  );
  assert.deepEqual(first.items, [1, 2, 3, 4, 5]);
  const token = first.nextToken!;
  const second = paginate(
    items,
    (n) => n,
    readPageRequest({ MaxResults: "5", NextToken: token }, { min: 5, max: 9 }, "q"),
    "q",
  );
  assert.deepEqual(second, { items: [6, 7], nextToken: undefined });
  assert.throws(
    () => readPageRequest({ NextToken: token }, { min: 5, max: 9 }, "other"),
    (e: unknown) => e instanceof Ec2Error && e.code === "InvalidPaginationToken",
  );
});

Deno.test("XML text is escaped, including characters XML cannot carry", () => {
  assert.equal(escapeXml(`<a href="x">&'\r`), "&lt;a href=&quot;x&quot;&gt;&amp;&apos;&#13;");
  assert.equal(escapeXml("bell\u0007"), "bell\uFFFD");
  assert.equal(
    list("tagSet", [el("key", "<k>")]).markup,
    "<tagSet><item><key>&lt;k&gt;</key></item></tagSet>",
  );
});
