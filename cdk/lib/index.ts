/** immutag's CDK constructs and stacks, for use in other CDK apps. */
export * from './rule-parameters';
export * from './lambda-code';
export * from './immutag-config-rule';
export * from './scp';
export * from './stacks';
export { buildApp, CONTEXT_KEYS, DEFAULT_SCP_FILE, DEFAULT_CARGO_MANIFEST } from './app';
