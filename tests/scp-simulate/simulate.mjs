// Proves immutag's Service Control Policies with an independent IAM engine,
// @cloud-copilot/iam-simulate (offline). Each SCP under test is attached beside FullAWSAccess
// (an SCP needs an Allow at every level), the principal has an identity policy allowing
// everything, and the requests come from what the options *mean* (written here, apart from
// the Rust generator): a non-exempt principal is explicitly denied each guarded action; each
// exempt principal is allowed it; ecr:PutImage, ecr:BatchGetImage and
// ecr:DescribeRepositories stay allowed; scoping (regions, exempt repositories, the exempt
// repository tag, extra conditions) spares what it should.
//
// Inputs (see scripts/test.d/45-scp-simulate.sh):
//   --presets FILE   `immutag scp presets --output json` (the options of each golden file)
//   --golden DIR     policies/*.json, each named after its preset
//   --corpus DIR     what the Rust tests generated ({source, options, policies} per file)
//   --fixtures DIR   tests/fixtures/policies (the policies the linter must refuse)
// Prints one line per policy and closes with "scp-simulate: N passed, M failed".
import fs from 'node:fs';
import path from 'node:path';
import { runSimulation } from '@cloud-copilot/iam-simulate';

const ACCOUNT = '111122223333';
const DEFAULT_REGION = 'eu-west-1';
const NON_EXEMPT = `arn:aws:iam::${ACCOUNT}:role/immutag-simulated-developer`;
const ALLOW_ALL = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] };
const ALLOWED = 'Allowed';
const DENIED = 'ExplicitlyDenied';

function args() {
  const out = {};
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i += 2) out[argv[i].replace(/^--/, '')] = argv[i + 1];
  for (const k of ['presets', 'golden', 'corpus', 'fixtures']) {
    if (!out[k]) throw new Error(`missing --${k}`);
  }
  return out;
}

/** The decision for one request against these SCPs; throws when the simulator refuses the input. */
async function decide(policies, request) {
  const simulation = {
    identityPolicies: [{ name: 'AllowAll', policy: ALLOW_ALL }],
    serviceControlPolicies: [
      {
        orgIdentifier: 'ou-immu-simulated',
        policies: [{ name: 'FullAWSAccess', policy: ALLOW_ALL }, ...policies.map((policy, i) => ({ name: `under-test-${i + 1}`, policy }))],
      },
    ],
    resourceControlPolicies: [],
    request: {
      action: request.action,
      principal: request.principal,
      resource: { accountId: ACCOUNT, resource: request.resource },
      // The simulator does not derive these from the principal: give them as IAM would.
      contextVariables: {
        'aws:PrincipalArn': request.principal,
        'aws:PrincipalAccount': request.principal.split(':')[4],
        'aws:RequestedRegion': request.region,
        ...request.context,
      },
    },
  };
  const response = await runSimulation(simulation, {});
  if (response.resultType === 'error') {
    throw new Error(`the simulator refused the request ${JSON.stringify(request)}: ${JSON.stringify(response.errors)}`);
  }
  return response;
}

/** A concrete ARN matched by an IAM ARN pattern (wildcards filled with plain characters). */
function instance(pattern, { region = DEFAULT_REGION } = {}) {
  const parts = pattern.split(':');
  if (parts.length < 6 || parts[0] !== 'arn') throw new Error(`not an ARN pattern: ${pattern}`);
  const [, partition, service, reg, account] = parts;
  const resource = parts.slice(5).join(':');
  const fill = (s) => s.replace(/\*/g, 'x').replace(/\?/g, 'q');
  let acct = account === '*' ? ACCOUNT : account;
  if (/[*?]/.test(acct)) {
    acct = acct.replace(/\?/g, '1');
    const stars = (acct.match(/\*/g) || []).length;
    const missing = Math.max(0, 12 - acct.replace(/\*/g, '').length);
    acct = acct.replace(/\*/g, () => '1'.repeat(Math.floor(missing / Math.max(stars, 1))));
    acct = acct.padEnd(12, '1');
  }
  const regionPart = reg === '' ? '' : /[*?]/.test(reg) ? region : reg;
  return ['arn', partition.includes('*') ? 'aws' : partition, fill(service), regionPart, acct === '' ? '' : acct, fill(resource)].join(':');
}

/** Context entries that make the options' extra conditions true, so the Deny can apply. */
function extraContext(extra) {
  const ctx = {};
  for (const [operator, entries] of Object.entries(extra ?? {})) {
    for (const [key, raw] of Object.entries(entries)) {
      const values = [].concat(raw).map(String);
      const base = operator.replace(/^For(All|Any)Values?:/, '').replace(/IfExists$/, '');
      if (['StringEquals', 'StringEqualsIgnoreCase', 'StringLike', 'ArnEquals', 'ArnLike'].includes(base)) {
        ctx[key] = values[0].replace(/\*/g, 'x').replace(/\?/g, 'q');
      } else if (base.includes('Not')) {
        ctx[key] = 'immutag-simulated-other';
      } else if (base === 'Bool') {
        ctx[key] = values[0];
      } else {
        throw new Error(`no request is built for the extra condition ${operator} on ${key}: teach simulate.mjs`);
      }
    }
  }
  return ctx;
}

/** The requests and the decision each must get, from what the options mean. */
function expectations(o) {
  const cases = [];
  const region = o.regions?.[0] ?? DEFAULT_REGION;
  const extra = extraContext(o.extra_conditions);
  const repo = `arn:${o.partition ?? 'aws'}:ecr:${region}:${ACCOUNT}:repository/immutag-simulated/app`;
  const exempt = (o.exempt_principals ?? []).map((p) => instance(p));
  const creators = [...exempt, ...(o.creation_principals ?? []).map((p) => instance(p))];
  const add = (what, principal, action, resource, expect, context = {}) =>
    cases.push({ what, expect, request: { principal, action, resource, region, context: { ...extra, ...context } } });
  const everyone = (label, action, resource, exemptOnes, context = {}) => {
    add(`${label}: a non-exempt principal is denied`, NON_EXEMPT, action, resource, DENIED, context);
    for (const p of exemptOnes) add(`${label}: exempt ${p} is allowed`, p, action, resource, ALLOWED, context);
  };
  const requiredTags = {};
  for (const t of o.require_creation_tags ?? []) requiredTags[`aws:RequestTag/${t.key}`] = t.values?.[0] ?? 'simulated';
  const tagKeys = (keys) => ({ 'aws:TagKeys': keys });
  const withTags = (tags) => ({ ...tags, ...tagKeys(Object.keys(tags).map((k) => k.replace('aws:RequestTag/', ''))) });
  const exemptTag = o.exempt_repository_tag ? { [`aws:ResourceTag/${o.exempt_repository_tag.key}`]: o.exempt_repository_tag.value } : null;
  const exemptRepos = (o.exempt_repositories ?? []).map((r) =>
    r.startsWith('arn:') ? instance(r, { region }).replace(/:ecr:[^:]*:[^:]*:/, `:ecr:${region}:${ACCOUNT}:`) : `arn:${o.partition ?? 'aws'}:ecr:${region}:${ACCOUNT}:repository/${r.replace(/\*/g, 'x').replace(/\?/g, 'q')}`,
  );

  if (o.lock_mutability) {
    everyone('lock_mutability', 'ecr:PutImageTagMutability', repo, exempt);
    if (exemptTag) add('lock_mutability: a repository with the exempt tag is spared', NON_EXEMPT, 'ecr:PutImageTagMutability', repo, ALLOWED, exemptTag);
    for (const r of exemptRepos) add(`lock_mutability: exempt repository ${r} is spared`, NON_EXEMPT, 'ecr:PutImageTagMutability', r, ALLOWED);
    if ((o.regions ?? []).length > 0) {
      cases.push({
        what: 'lock_mutability: a region outside `regions` is not locked',
        expect: ALLOWED,
        request: { principal: NON_EXEMPT, action: 'ecr:PutImageTagMutability', resource: repo, region: 'ap-southeast-7', context: extra },
      });
    }
  }
  if (o.restrict_creation) {
    everyone('restrict_creation', 'ecr:CreateRepository', repo, creators, withTags(requiredTags));
    for (const r of exemptRepos) add(`restrict_creation: exempt repository ${r} is spared`, NON_EXEMPT, 'ecr:CreateRepository', r, ALLOWED, withTags(requiredTags));
  }
  if (o.lock_creation_templates) {
    for (const a of ['ecr:CreateRepositoryCreationTemplate', 'ecr:UpdateRepositoryCreationTemplate', 'ecr:DeleteRepositoryCreationTemplate']) {
      everyone('lock_creation_templates', a, '*', exempt);
    }
  }
  if (o.protect_tags) {
    for (const a of ['ecr:BatchDeleteImage', 'ecr:DeleteRepository']) {
      everyone('protect_tags', a, repo, exempt);
      if (exemptTag) add(`protect_tags: ${a} on a repository with the exempt tag is spared`, NON_EXEMPT, a, repo, ALLOWED, exemptTag);
      for (const r of exemptRepos) add(`protect_tags: ${a} on exempt repository ${r} is spared`, NON_EXEMPT, a, r, ALLOWED);
    }
  }
  const protectedKeys = [];
  if (o.exempt_repository_tag && (o.lock_mutability || o.protect_tags)) protectedKeys.push(o.exempt_repository_tag.key);
  if (o.rule_exemption_tag_key) protectedKeys.push(o.rule_exemption_tag_key);
  // A principal who may create repositories but is exempt from nothing else: the tag
  // protection and the required tags must still stop it (none when only exempt ones create).
  const creationOnly = (o.creation_principals ?? []).map((p) => instance(p)).filter((p) => !exempt.includes(p));
  const creator = o.restrict_creation ? creationOnly[0] : NON_EXEMPT;
  for (const key of protectedKeys) {
    const setTag = { 'aws:TagKeys': [key], [`aws:RequestTag/${key}`]: 'true' };
    everyone(`exemption tag ${key}: TagResource`, 'ecr:TagResource', repo, exempt, setTag);
    add(`exemption tag ${key}: TagResource in another casing is denied`, NON_EXEMPT, 'ecr:TagResource', repo, DENIED, { 'aws:TagKeys': [key.toUpperCase()] });
    everyone(`exemption tag ${key}: UntagResource`, 'ecr:UntagResource', repo, exempt, tagKeys([key]));
    if (creator !== undefined) {
      add(`exemption tag ${key}: CreateRepository with the tag is denied to ${creator}`, creator, 'ecr:CreateRepository', repo, DENIED, { ...withTags(requiredTags), ...setTag, 'aws:TagKeys': [key, ...Object.keys(requiredTags).map((k) => k.replace('aws:RequestTag/', ''))] });
    }
  }
  if (protectedKeys.length > 0) {
    add('tagging with another key stays allowed', NON_EXEMPT, 'ecr:TagResource', repo, ALLOWED, { 'aws:TagKeys': ['team'], 'aws:RequestTag/team': 'payments' });
  }
  for (const [i, t] of (o.require_creation_tags ?? []).entries()) {
    const others = { ...requiredTags };
    delete others[`aws:RequestTag/${t.key}`];
    for (const p of exempt) add(`require_creation_tags[${i}] ${t.key}: exempt ${p} may create without it`, p, 'ecr:CreateRepository', repo, ALLOWED, withTags(others));
    if (creator === undefined) continue;
    add(`require_creation_tags[${i}] ${t.key}: creation without it is denied`, creator, 'ecr:CreateRepository', repo, DENIED, withTags(others));
    if ((t.values ?? []).length > 0) {
      add(`require_creation_tags[${i}] ${t.key}: another value is denied`, creator, 'ecr:CreateRepository', repo, DENIED, withTags({ ...others, [`aws:RequestTag/${t.key}`]: 'immutag-simulated-other' }));
    }
  }
  if (Object.keys(requiredTags).length > 0 && creator !== undefined) {
    add('require_creation_tags: creation with every tag is allowed', creator, 'ecr:CreateRepository', repo, ALLOWED, withTags(requiredTags));
  }
  // What a pipeline needs every day stays allowed.
  for (const a of ['ecr:PutImage', 'ecr:BatchGetImage', 'ecr:DescribeRepositories']) add(`${a} stays allowed`, NON_EXEMPT, a, repo, ALLOWED);
  return cases;
}

const counts = { passed: 0, failed: 0, requests: 0 };

async function prove(label, policies, cases) {
  const wrong = [];
  for (const c of cases) {
    let got;
    try {
      got = (await decide(policies, c.request)).overallResult;
    } catch (e) {
      got = `error: ${e.message}`;
    }
    if (got !== c.expect) wrong.push(`  ${c.what}: expected ${c.expect}, got ${got}\n    request ${JSON.stringify(c.request)}`);
  }
  if (cases.length === 0) wrong.push('  no request to simulate');
  counts.requests += cases.length;
  if (wrong.length === 0) {
    counts.passed += 1;
    console.log(`ok   ${label}: ${cases.length} requests decided as the options mean`);
  } else {
    counts.failed += 1;
    console.log(`FAIL ${label}:\n${wrong.join('\n')}\n  policies ${JSON.stringify(policies)}`);
  }
}

/** The policies the linter refuses: the engine shows what each really does. */
async function proveFixtures(dir) {
  const read = (f) => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8'));
  const platform = `arn:aws:iam::${ACCOUNT}:role/ImmutagPlatform`;
  const repo = `arn:aws:ecr:${DEFAULT_REGION}:${ACCOUNT}:repository/immutag-simulated/app`;
  const req = (principal, action, context = {}) => ({ principal, action, resource: repo, region: DEFAULT_REGION, context });
  const bad = read('bad-create-unless-immutable.json');
  await prove('bad-create-unless-immutable.json (deny CreateRepository unless ecr:ImageTagMutability)', [bad], [
    { what: 'a non-exempt principal cannot create a repository', expect: DENIED, request: req(NON_EXEMPT, 'ecr:CreateRepository') },
    { what: 'nor can the platform role', expect: DENIED, request: req(platform, 'ecr:CreateRepository') },
    { what: 'nor anyone claiming IMMUTABLE: the key is never in the request', expect: DENIED, request: req(platform, 'ecr:CreateRepository', { 'ecr:ImageTagMutability': 'IMMUTABLE' }) },
  ]);
  // Why: the engine drops the key (not a key of CreateRepository) and reads the negated
  // operator on the absent key as true, as IAM does.
  const why = await decide([bad], req(platform, 'ecr:CreateRepository', { 'ecr:ImageTagMutability': 'IMMUTABLE' }));
  const explain = JSON.stringify(why);
  if (explain.includes('"matchedBecauseMissing":true') && (why.result?.ignoredContextKeys ?? []).includes('ecr:ImageTagMutability')) {
    counts.passed += 1;
    console.log('ok   bad-create-unless-immutable.json: the engine ignores ecr:ImageTagMutability and matches StringNotEquals because the key is missing');
  } else {
    counts.failed += 1;
    console.log(`FAIL bad-create-unless-immutable.json: the engine did not explain the denial by the missing key: ${explain.slice(0, 2000)}`);
  }
  await prove('bad-arnlike-exemption.json (ArnLike: a lock on the platform role only)', [read('bad-arnlike-exemption.json')], [
    { what: 'everyone else can still change tag mutability', expect: ALLOWED, request: req(NON_EXEMPT, 'ecr:PutImageTagMutability') },
    { what: 'only the role it meant to exempt is denied', expect: DENIED, request: req(platform, 'ecr:PutImageTagMutability') },
  ]);
  await prove('bad-exempt-every-role.json (an exemption of role/*: a lock on no role)', [read('bad-exempt-every-role.json')], [
    { what: 'any role can still change tag mutability', expect: ALLOWED, request: req(NON_EXEMPT, 'ecr:PutImageTagMutability') },
  ]);
}

async function main() {
  const a = args();
  const presets = JSON.parse(fs.readFileSync(a.presets, 'utf8'));
  const byName = new Map(presets.map((p) => [p.options.name, p.options]));
  const golden = fs.readdirSync(a.golden).filter((f) => f.endsWith('.json')).sort();
  if (golden.length === 0) throw new Error(`no golden policy in ${a.golden}`);
  for (const f of golden) {
    const options = byName.get(f.replace(/\.json$/, ''));
    if (!options) {
      counts.failed += 1;
      console.log(`FAIL ${f}: no preset of that name, so nothing says what it must do`);
      continue;
    }
    const policy = JSON.parse(fs.readFileSync(path.join(a.golden, f), 'utf8'));
    await prove(`policies/${f}`, [policy], expectations(options));
  }
  const corpus = fs.existsSync(a.corpus) ? fs.readdirSync(a.corpus).filter((f) => f.endsWith('.json')).sort() : [];
  if (corpus.length === 0) {
    throw new Error(`nothing to simulate in ${a.corpus}: the Rust tests record what they generate there when IMMUTAG_SCP_CORPUS is set (scripts/test.d/20-rust-test.sh sets it)`);
  }
  const corpusControls = new Set();
  for (const f of corpus) {
    const entry = JSON.parse(fs.readFileSync(path.join(a.corpus, f), 'utf8'));
    for (const k of Object.keys(entry.options)) if (entry.options[k] === true) corpusControls.add(k);
    if (entry.options.rule_exemption_tag_key) corpusControls.add('rule_exemption_tag_key');
    if ((entry.options.require_creation_tags ?? []).length > 0) corpusControls.add('require_creation_tags');
    await prove(`${f} (${entry.source}, ${entry.policies.length} SCP${entry.policies.length === 1 ? '' : 's'})`, entry.policies, expectations(entry.options));
  }
  // A recorder that silently stopped recording one control must not pass as "all proven".
  for (const k of ['lock_mutability', 'restrict_creation', 'lock_creation_templates', 'protect_tags', 'rule_exemption_tag_key', 'require_creation_tags']) {
    if (!corpusControls.has(k)) {
      counts.failed += 1;
      console.log(`FAIL the generator outputs of the tests (${a.corpus}) hold no policy with ${k}`);
    }
  }
  await proveFixtures(a.fixtures);
  console.log(`simulated ${counts.requests} requests against ${golden.length} golden policies, ${corpus.length} generator outputs of the tests and the refused fixtures`);
  console.log(`scp-simulate: ${counts.passed} passed, ${counts.failed} failed`);
  process.exit(counts.failed === 0 ? 0 : 1);
}

main().catch((e) => {
  console.error(`FAIL: ${e.stack ?? e}`);
  console.log(`scp-simulate: ${counts.passed} passed, ${counts.failed + 1} failed`);
  process.exit(1);
});
