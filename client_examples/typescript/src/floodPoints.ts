// The flood points of a town, page by page, with types generated from the hub's schema.
//
//   export HUB_TOKEN=$(.venv/bin/hub token issue yingji)   # 应急管理局
//   (cd client_examples/typescript && npm ci && npm run build)
//   node client_examples/typescript/dist/floodPoints.js [http://127.0.0.1:8000/graphql] [town code]
//
// The token is read from HUB_TOKEN, never from the command line.
import { readFileSync } from "node:fs";
import type { FloodPointsQuery, FloodPointsQueryVariables } from "./generated.js";

const url = process.argv[2] ?? "http://127.0.0.1:8000/graphql";
const town = process.argv[3] ?? "350304100000"; // 西天尾镇
const document = readFileSync(new URL("../src/floodPoints.graphql", import.meta.url), "utf8");

const token = (process.env.HUB_TOKEN ?? "").trim();
if (!token) {
  console.error("HUB_TOKEN is not set: export HUB_TOKEN=$(.venv/bin/hub token issue yingji) first (未设置 HUB_TOKEN)");
  process.exit(2);
}

async function page(variables: FloodPointsQueryVariables): Promise<FloodPointsQuery["floodPoints"]> {
  const response = await fetch(url, {
    method: "POST",
    headers: {
      "Content-Type": "application/json",
      Accept: "application/graphql-response+json",
      Authorization: `Bearer ${token}`,
    },
    body: JSON.stringify({ query: document, variables }),
  });
  const body = (await response.json()) as { data?: FloodPointsQuery; errors?: { message: string }[] };
  if (body.errors?.length || !body.data) {
    throw new Error(body.errors?.map((e) => e.message).join("; ") ?? `HTTP ${response.status}`);
  }
  return body.data.floodPoints;
}

let after: string | null = null;
for (;;) {
  const found = await page({ town, after });
  for (const point of found.nodes) {
    const nearby = point.nearbyEnterprise ? `  附近企业 ${point.nearbyEnterprise.name}` : "";
    console.log(`${point.name}  ${point.riskLevel}  ${point.status}  责任人 ${point.responsiblePerson}${nearby}`);
  }
  if (!found.pageInfo.hasNextPage) {
    console.log(`共 ${found.totalCount} 处`);
    break;
  }
  after = found.pageInfo.endCursor;
}
