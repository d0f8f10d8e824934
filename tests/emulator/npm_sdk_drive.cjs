// Drives every `images` method of the npm `cloudflare` SDK against `imgtui serve`.
// Run by tests/emulator/test_sdk_npm.py:  node npm_sdk_drive.cjs  with SDK_DIR, BASE_URL,
// API_TOKEN, ACCOUNT_ID and PNG_BASE64 in the environment. Prints one JSON line: the methods
// called, in order, and what the test checks on the Python side. Any failed check throws
// (exit status 1, the message on stderr).
"use strict";

const assert = require("node:assert/strict");
const path = require("node:path");

const sdk = require(path.join(process.env.SDK_DIR, "node_modules", "cloudflare"));
const Cloudflare = sdk.Cloudflare;
const account_id = process.env.ACCOUNT_ID;
const png = Buffer.from(process.env.PNG_BASE64, "base64");
const called = [];

function file(name) {
  return sdk.toFile(png, name, { type: "image/png" });
}

async function rejects(promise, ErrorClass, what) {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof ErrorClass, `${what}: ${error}`);
    return error;
  }
  assert.fail(`${what}: no error`);
}

async function main() {
  const client = new Cloudflare({ apiToken: process.env.API_TOKEN, baseURL: process.env.BASE_URL, maxRetries: 0 });
  const v1 = client.images.v1;
  const v2 = client.images.v2;

  // -- images (v1) ------------------------------------------------------------------------
  const created = await v1.create({ account_id, file: await file("cat.png"), id: "pets/cat", metadata: JSON.stringify({ n: 1, tag: "a" }), creator: "ann" });
  called.push("v1.create");
  assert.equal(created.id, "pets/cat");
  assert.equal(created.filename, "cat.png");
  assert.deepEqual(created.meta, { n: 1, tag: "a" }); // a JSON-string field keeps its types
  assert.equal(created.requireSignedURLs, false);
  const generated = await v1.create({ account_id, file: await file("dog.png") });
  assert.match(generated.id, /^[0-9a-f-]{36}$/);

  const got = await v1.get("pets/cat", { account_id });
  called.push("v1.get");
  assert.equal(got.id, "pets/cat");
  assert.equal(got.creator, "ann");

  const blob = await v1.blobs.get("pets/cat", { account_id });
  called.push("v1.blobs.get");
  assert.deepEqual(Buffer.from(await blob.arrayBuffer()), png);

  const edited = await v1.edit(generated.id, { account_id, metadata: { n: 2 }, requireSignedURLs: true });
  called.push("v1.edit");
  assert.deepEqual(edited.meta, { n: 2 });
  assert.equal(edited.requireSignedURLs, true);

  // The deprecated v1 list: the first page's raw answer has `result.images`; the SDK's
  // auto-pagination reads `result.items`, which Cloudflare's answer does not have (a quirk
  // of the SDK, documented, not emulated).
  const page = await v1.list({ account_id, per_page: 10 });
  called.push("v1.list");
  assert.deepEqual(page.result.images.map((image) => image.id).sort(), [generated.id, "pets/cat"].sort());
  const iterated = [];
  for await (const item of v1.list({ account_id, per_page: 10 })) iterated.push(item);
  assert.equal(iterated.length, 0);

  // -- v2 list, direct upload -----------------------------------------------------------------
  const listed = await v2.list({ account_id, per_page: 10, sort_order: "asc" });
  called.push("v2.list");
  assert.deepEqual(listed.images.map((image) => image.id), ["pets/cat", generated.id]);
  const filtered = await v2.list({ account_id, meta: { "n[eq:number]": 1 } });
  assert.deepEqual(filtered.images.map((image) => image.id), ["pets/cat"]);
  await rejects(v2.list({ account_id, meta: { "n[like]": 1 } }), sdk.BadRequestError, "an unknown filter operator");

  const direct = await v2.directUploads.create({ account_id, id: "by/npm", metadata: JSON.stringify({ k: "v" }) });
  called.push("v2.directUploads.create");
  assert.equal(direct.id, "by/npm");
  const form = new FormData();
  form.append("file", new Blob([png], { type: "image/png" }), "up.png");
  const done = await fetch(direct.uploadURL, { method: "POST", body: form }); // no token: the URL is the credential
  assert.equal(done.status, 200, await done.clone().text());
  assert.deepEqual((await v1.get("by/npm", { account_id })).meta, { k: "v" });
  const again = await fetch(direct.uploadURL, { method: "POST", body: form });
  assert.ok(again.status >= 400, "a used upload URL is refused");

  // -- stats, signing keys ---------------------------------------------------------------------
  const stats = await v1.stats.get({ account_id });
  called.push("v1.stats.get");
  assert.equal(stats.count.current, 3);
  assert.ok(stats.count.allowed >= stats.count.current);

  const keys = await v1.keys.list({ account_id });
  called.push("v1.keys.list");
  assert.deepEqual(keys.keys.map((key) => key.name), ["default"]);
  const more = await v1.keys.update("mobile", { account_id });
  called.push("v1.keys.update");
  assert.deepEqual(more.keys.map((key) => key.name).sort(), ["default", "mobile"]);
  const left = await v1.keys.delete("mobile", { account_id });
  called.push("v1.keys.delete");
  assert.deepEqual(left.keys.map((key) => key.name), ["default"]);

  // -- variants --------------------------------------------------------------------------------
  const before = Object.keys((await v1.variants.list({ account_id })).variants).sort();
  assert.ok(before.includes("public") && !before.includes("hero"));
  const options = { fit: "cover", width: 100, height: 50, metadata: "none" };
  const variant = await v1.variants.create({ account_id, id: "hero", options, neverRequireSignedURLs: true });
  called.push("v1.variants.create");
  assert.equal(variant.variant.id, "hero");
  assert.equal(variant.variant.neverRequireSignedURLs, true);
  const variants = await v1.variants.list({ account_id });
  called.push("v1.variants.list");
  assert.deepEqual(Object.keys(variants.variants).sort(), [...before, "hero"].sort());
  const one = await v1.variants.get("hero", { account_id });
  called.push("v1.variants.get");
  assert.equal(one.variant.options.width, 100);
  const changed = await v1.variants.edit("hero", { account_id, options: { ...options, fit: "pad" } });
  called.push("v1.variants.edit");
  assert.equal(changed.variant.options.fit, "pad");
  await v1.variants.delete("hero", { account_id });
  called.push("v1.variants.delete");
  await rejects(v1.variants.get("hero", { account_id }), sdk.NotFoundError, "a deleted variant");
  await rejects(v1.variants.delete("public", { account_id }), sdk.BadRequestError, "deleting public");

  // -- delete, errors --------------------------------------------------------------------------
  await v1.delete("pets/cat", { account_id });
  called.push("v1.delete");
  await rejects(v1.get("pets/cat", { account_id }), sdk.NotFoundError, "a deleted image");
  const conflict = await rejects(v1.create({ account_id, file: await file("x.png"), id: "by/npm" }), sdk.ConflictError, "a taken id");
  const unauthorized = new Cloudflare({ apiToken: "wrong", baseURL: process.env.BASE_URL, maxRetries: 0 });
  await rejects(unauthorized.images.v2.list({ account_id }), sdk.AuthenticationError, "a wrong token");

  process.stdout.write(JSON.stringify({ called, conflict: conflict.errors, variants: before }) + "\n");
}

main().catch((error) => {
  process.stderr.write(`${error && error.stack ? error.stack : error}\n`);
  process.exit(1);
});
