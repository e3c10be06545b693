import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  ALLOWED_EXCLUSION_FILTERS,
  EXECUTION_ROLE_NAME,
  EXEMPT_REPOSITORY_PATTERNS,
  EXEMPTION_TAG_KEY,
  ImmutagRuleParameters,
  REMEDIATION,
  renderRuleParameters,
} from '../lib';

/**
 * The CDK validates rule parameters at synth time the way immutag-core does at run time.
 * Both are tied to the same files: the schema `immutag schema params` prints (a Rust test
 * keeps this copy identical) and the cases both must decide alike (a Rust test runs them
 * through RuleParameters::from_map).
 */
const fixtures = path.resolve(__dirname, '..', '..', 'tests', 'fixtures', 'rule-parameters');
const schema = JSON.parse(fs.readFileSync(path.join(fixtures, 'schema.json'), 'utf8'));
const cases: { key: string; value: string; valid: boolean; wire?: string }[] = JSON.parse(
  fs.readFileSync(path.join(fixtures, 'cases.json'), 'utf8'),
).cases;

/** The CDK's typed parameters for one wire key and value (lists split as Config's wire form is). */
function typed(key: string, value: string): ImmutagRuleParameters {
  switch (key) {
    case ALLOWED_EXCLUSION_FILTERS:
      return { allowedExclusionFilters: value.split(',') };
    case EXEMPT_REPOSITORY_PATTERNS:
      return { exemptRepositoryPatterns: value.split(',') };
    case EXEMPTION_TAG_KEY:
      return { exemptionTagKey: value };
    case EXECUTION_ROLE_NAME:
      return { executionRoleName: value };
    default:
      throw new Error(`rule parameter ${key} has no typed CDK property: add it to ImmutagRuleParameters and renderRuleParameters`);
  }
}

describe('rule parameters: the CDK and immutag schema params agree', () => {
  test('the same keys, no others, every value a string', () => {
    const keys = [ALLOWED_EXCLUSION_FILTERS, EXEMPT_REPOSITORY_PATTERNS, EXEMPTION_TAG_KEY, EXECUTION_ROLE_NAME, REMEDIATION];
    expect(Object.keys(schema.properties).sort()).toEqual([...keys].sort());
    expect(schema.additionalProperties).toBe(false);
    for (const key of keys) expect([].concat(schema.properties[key].type)).toContain('string');
    // What the CDK renders uses only those keys, each a string.
    const wire = renderRuleParameters({ allowedExclusionFilters: ['latest'], exemptRepositoryPatterns: ['x'], exemptionTagKey: 'k', executionRoleName: 'R' }, true);
    expect(Object.keys(wire).sort()).toEqual([...keys].sort());
    for (const v of Object.values(wire)) expect(typeof v).toBe('string');
  });

  test('every schema key has cases, refused ones included', () => {
    for (const key of Object.keys(schema.properties)) {
      expect(cases.some((c) => c.key === key && !c.valid)).toBe(true);
    }
  });

  test.each(cases.filter((c) => c.key !== REMEDIATION).map((c) => [c.key, c.value.length > 40 ? `${c.value.slice(0, 20)}... (${c.value.length})` : c.value, c] as const))(
    '%s=%j is decided as immutag-core decides it',
    (key, _shown, c) => {
      if (c.valid) {
        const wire = renderRuleParameters(typed(key, c.value), false);
        expect(wire[key]).toBe(c.wire);
      } else {
        expect(() => renderRuleParameters(typed(key, c.value), false)).toThrow(new RegExp(`rule parameter ${key}:`));
      }
    },
  );

  test('Remediation: the CDK renders only values immutag-core accepts', () => {
    const accepted = cases.filter((c) => c.key === REMEDIATION && c.valid).map((c) => c.value);
    expect(accepted).toContain(renderRuleParameters({}, true)[REMEDIATION]);
    expect(accepted).toContain(renderRuleParameters({}, false)[REMEDIATION]);
  });
});
