import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';

/**
 * A directory holding a placeholder `bootstrap`, ONLY so that stacks can be synthesized
 * offline without building the Rust Lambda. It is never deployed.
 */
export function placeholderAsset(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'immutag-placeholder-asset-'));
  fs.writeFileSync(
    path.join(dir, 'bootstrap'),
    '#!/bin/sh\necho "placeholder for synthesis only: build crates/immutag-lambda with cargo lambda" >&2\nexit 1\n',
    { mode: 0o755 },
  );
  return dir;
}

/** An app that never bundles (no cargo-lambda run) and writes to a throw-away directory. */
export function offlineApp(context: Record<string, unknown> = {}): App {
  return new App({
    outdir: fs.mkdtempSync(path.join(os.tmpdir(), 'immutag-cdk-out-')),
    context: { 'aws:cdk:bundling-stacks': [], ...context },
  });
}

/** One statement of an IAM policy document, with Action always a list. */
export interface Statement {
  Sid?: string;
  Effect: string;
  Action: string[];
  Resource: unknown;
}

/** The statements of the inline policies of every AWS::IAM::Role in the template. */
export function roleStatements(template: Template): Statement[] {
  const roles = template.findResources('AWS::IAM::Role');
  const out: Statement[] = [];
  for (const role of Object.values(roles)) {
    for (const policy of role.Properties.Policies ?? []) {
      for (const st of policy.PolicyDocument.Statement) {
        out.push({ ...st, Action: ([] as string[]).concat(st.Action) });
      }
    }
  }
  return out;
}

/** Every IAM action granted by the roles' inline policies, sorted. */
export function grantedActions(template: Template): string[] {
  return roleStatements(template).flatMap((s) => s.Action).sort();
}

/** Joins an Fn::Join the way CloudFormation would, keeping pseudo parameters as ${Name}. */
export function flatten(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object') {
    const v = value as Record<string, unknown>;
    if ('Fn::Join' in v) {
      const [sep, parts] = v['Fn::Join'] as [string, unknown[]];
      return parts.map(flatten).join(sep);
    }
    if ('Ref' in v) return `\${${v.Ref as string}}`;
    if ('Fn::GetAtt' in v) return `\${${(v['Fn::GetAtt'] as string[]).join('.')}}`;
  }
  return JSON.stringify(value);
}
