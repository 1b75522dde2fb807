import type { ClassSchema } from '../../wsman/typing';

/** User consent and the alarm clock. */
export const OPT_IN_SCHEMAS: Record<string, ClassSchema> = {
  IPS_OptInService: { CanModifyOptInPolicy: 'int', OptInCodeTimeout: 'int', OptInDisplayTimeout: 'int', OptInRequired: 'int', OptInState: 'int' },
  IPS_AlarmClockOccurrence: { StartTime: 'datetime', Interval: 'string', DeleteOnCompletion: 'bool' },
};
