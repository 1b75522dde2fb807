import type { OobMessage } from './types';

/** msg.topic when it says something: an Inject's empty topic ("") counts as no topic. */
export function givenTopic(msg: OobMessage): string | undefined {
  return typeof msg.topic === 'string' && msg.topic.trim() ? msg.topic : undefined;
}

/** The topic of a reply: the one given, else the first of `names` that is set (the device name, its host...). */
export function replyTopic(msg: OobMessage, ...names: Array<string | undefined>): string {
  return givenTopic(msg) ?? names.find((n) => n !== undefined && n !== '') ?? '';
}
