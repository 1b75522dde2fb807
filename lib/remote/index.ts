/** Signed commands from an MSP's centre to its sites' gateways, through the MQTT broker. */
export { ACTION_CLASSES, DEFAULT_ALLOW, REMOTE_ACTIONS, actionClass, allowList, isRemoteAction } from './actions';
export type { ActionClass, RemoteAction } from './actions';
export { generateKeyPairText, parsePrivateKey, parsePublicKey, publicKeyOf, rawPublicKey } from './keys';
export type { KeyPairText } from './keys';
export { openAnswer, openCommand, signAnswer, signCommand, newNonce, PROTOCOL_VERSION } from './envelope';
export type { Answer, Command } from './envelope';
export { CommandGuard } from './guard';
export type { Checked, RefusalReason } from './guard';
export { RemoteResponder } from './responder';
export type { Executor, Refusal, ResponderOptions, RunRecord } from './responder';
export { RemoteCentre } from './centre';
export type { CentreOptions, RequestOptions, SiteAvailability } from './centre';
export { RemoteRefusedError, SiteOfflineError } from './errors';
export { driverExecutor } from './driver-executor';
export * from './topics';
export type { RemoteEndpoint, RemoteRequester } from './endpoint';
export { acknowledgeRemote } from './acknowledge';
