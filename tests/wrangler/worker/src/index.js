// Routes over env.IMAGES.hosted (the Workers Images binding) for the fixture script:
//   POST /upload?id=&filename=&creator=&signed=1&meta=<json>   body = the image bytes
//   GET  /list?limit=&cursor=&sortOrder=&creator=
//   GET  /details/<id>    GET /bytes/<id>    POST /update/<id> (JSON body)    DELETE /delete/<id>
const json = (value, status = 200) =>
  new Response(JSON.stringify(value), { status, headers: { "content-type": "application/json" } });

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const q = url.searchParams;
    const [, route, id] = url.pathname.split("/").map(decodeURIComponent);
    const hosted = env.IMAGES.hosted;
    try {
      if (route === "upload" && request.method === "POST") {
        const options = {};
        if (q.has("id")) options.id = q.get("id");
        if (q.has("filename")) options.filename = q.get("filename");
        if (q.has("creator")) options.creator = q.get("creator");
        if (q.get("signed") === "1") options.requireSignedURLs = true;
        if (q.has("meta")) options.metadata = JSON.parse(q.get("meta"));
        return json(await hosted.upload(await request.arrayBuffer(), options));
      }
      if (route === "list") {
        const options = {};
        if (q.has("limit")) options.limit = Number(q.get("limit"));
        for (const name of ["cursor", "sortOrder", "creator"]) if (q.has(name)) options[name] = q.get(name);
        return json(await hosted.list(options));
      }
      if (route === "details") return json(await hosted.image(id).details());
      if (route === "bytes") {
        const stream = await hosted.image(id).bytes();
        return stream === null ? json(null, 404) : new Response(stream);
      }
      if (route === "update" && request.method === "POST")
        return json(await hosted.image(id).update(await request.json()));
      if (route === "delete" && request.method === "DELETE") return json(await hosted.image(id).delete());
      return json({ error: "no such route" }, 404);
    } catch (error) {
      return json({ error: String(error), code: error.code ?? null }, 500);
    }
  },
};
