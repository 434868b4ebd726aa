// Validates Kubernetes objects against the API's JSON schemas (those bundled in kubernetes-models), offline.
//   npm install --prefix deploy/k8s-validate
//   kubectl kustomize deploy/k8s > /tmp/rendezvous.yaml && node deploy/k8s-validate/validate.mjs /tmp/rendezvous.yaml
// Types, required fields and enumerations are checked; unknown fields are not (the API's schemas allow them),
// which is what DeploymentManifestsTest covers for the fields the deployment relies on. Custom resources
// (Strimzi's Kafka) have no schema here and are listed as skipped.
import fs from "fs";
import * as yaml from "js-yaml";

const docs = yaml.loadAll(fs.readFileSync(process.argv[2] ?? 0, "utf8")).filter(Boolean);
let checked = 0;
let invalid = 0;
const skipped = [];
for (const d of docs) {
  const [group, version] = d.apiVersion.includes("/") ? d.apiVersion.split("/") : [null, d.apiVersion];
  let Model;
  try {
    Model = (await import(group ? `kubernetes-models/${group}/${version}` : `kubernetes-models/${version}`))[d.kind];
  } catch {
    Model = undefined;
  }
  if (!Model) {
    skipped.push(`${d.apiVersion} ${d.kind}/${d.metadata?.name}`);
    continue;
  }
  try {
    new Model(d).validate();
    checked++;
  } catch (e) {
    invalid++;
    console.log(`INVALID ${d.kind}/${d.metadata?.name}: ${e.message}`);
  }
}
console.log(`valid ${checked}, invalid ${invalid}; no schema: ${skipped.join(", ") || "none"}`);
process.exit(invalid > 0 ? 1 : 0);
