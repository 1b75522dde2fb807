/**
 * Every simulated class. To add an area (system defense, inventory, events...): write
 * packages/sim/src/classes/<area>.ts exporting a ClassHandler[] and add one line below.
 */
import { accountClasses } from './accounts';
import { agentPresenceClasses } from './agent-presence';
import { alarmClockClasses } from './alarm-clock';
import { bootClasses } from './boot';
import { defenseClasses } from './defense';
import { inventoryClasses } from './inventory';
import { logClasses } from './logs';
import { networkClasses } from './network';
import { optInClasses } from './opt-in';
import { powerClasses } from './power';
import { remoteAccessClasses } from './remote-access';
import { settingsClasses } from './settings';
import { setupClasses } from './setup';
import { timeClasses } from './time';
import type { ClassHandler } from './types';

export const defaultClasses: ClassHandler[] = [
  ...powerClasses,
  ...inventoryClasses,
  ...settingsClasses,
  ...setupClasses,
  ...optInClasses,
  ...alarmClockClasses,
  ...bootClasses,
  ...logClasses,
  ...remoteAccessClasses,
  ...accountClasses,
  ...networkClasses,
  ...timeClasses,
  ...defenseClasses,
  ...agentPresenceClasses,
];

export type { ClassHandler, MethodContext, MethodResult } from './types';
