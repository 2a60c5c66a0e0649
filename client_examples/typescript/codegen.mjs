// Generates src/generated.ts — TypeScript types for the operations in src/*.graphql — from the
// hub's committed schema.graphql. graphql-codegen checks the operations against the schema first:
// a schema change that breaks them stops here, and one that changes their types stops tsc.
import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import { codegen } from "@graphql-codegen/core";
import * as operations from "@graphql-codegen/typescript-operations";
import { buildSchema, parse, printSchema } from "graphql";

const here = new URL(".", import.meta.url);
const schema = buildSchema(readFileSync(new URL("../../schema.graphql", here), "utf8"));
const documents = readdirSync(new URL("src/", here))
  .filter((name) => name.endsWith(".graphql"))
  .map((name) => ({ location: `src/${name}`, document: parse(readFileSync(new URL(`src/${name}`, here), "utf8")) }));

const output = await codegen({
  filename: "src/generated.ts",
  schema: parse(printSchema(schema)),
  schemaAst: schema,
  documents,
  config: { enumsAsTypes: true, avoidOptionals: true, scalars: { ID: "string" } },
  plugins: [{ typescriptOperations: {} }],  // v6: emits the enums and inputs the operations use, nothing else
  pluginMap: { typescriptOperations: operations },
});
writeFileSync(new URL("src/generated.ts", here), output);
console.error(`generated src/generated.ts from schema.graphql and ${documents.length} operation file(s)`);
