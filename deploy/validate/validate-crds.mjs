// Validates custom resources against validators generated from their CRDs' openAPIV3Schema
// (the @kubernetes-models packages compile each CRD version's schema with ajv).
//
// Input on stdin: a JSON array of Kubernetes objects. Output on stdout: a JSON array, one
// entry per object: {apiVersion, kind, name, ok, error}. Exit status 0 unless the input
// could not be read; the caller (tests/test_deploy_files.py) asserts on the entries.
//
//   npm ci --prefix deploy/validate && node deploy/validate/validate-crds.mjs < docs.json

import { readFileSync } from "node:fs";

import { ScaledObject } from "@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject";
import { KafkaTopic as KafkaTopicV1 } from "@kubernetes-models/strimzi-kafka-operator/kafka.strimzi.io/v1/KafkaTopic";
import { KafkaTopic as KafkaTopicV1beta2 } from "@kubernetes-models/strimzi-kafka-operator/kafka.strimzi.io/v1beta2/KafkaTopic";

const MODELS = {
  "keda.sh/v1alpha1/ScaledObject": ScaledObject,
  "kafka.strimzi.io/v1beta2/KafkaTopic": KafkaTopicV1beta2,
  "kafka.strimzi.io/v1/KafkaTopic": KafkaTopicV1,
};

const docs = JSON.parse(readFileSync(0, "utf8"));
const results = docs.map((doc) => {
  const key = `${doc.apiVersion}/${doc.kind}`;
  const entry = { apiVersion: doc.apiVersion, kind: doc.kind, name: doc.metadata?.name, ok: false, error: null };
  const Model = MODELS[key];
  if (!Model) {
    entry.error = `no CRD validator for ${key}`;
    return entry;
  }
  try {
    new Model(doc).validate();
    entry.ok = true;
  } catch (err) {
    entry.error = String(err?.message ?? err);
  }
  return entry;
});
process.stdout.write(JSON.stringify(results));
