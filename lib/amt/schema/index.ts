/**
 * How AMT/CIM/IPS class properties are typed (numbers, booleans, arrays, references), by class.
 * Each feature area keeps its classes in a file of its own here.
 */
import type { ClassSchema } from '../../wsman/typing';
import { DEFENSE_SCHEMAS } from './defense';
import { IDENTITY_SCHEMAS } from './identity';
import { INVENTORY_SCHEMAS } from './inventory';
import { OPT_IN_SCHEMAS } from './opt-in';
import { POWER_SCHEMAS } from './power';
import { BOOT_SCHEMAS } from './boot';

const SCHEMAS: Record<string, ClassSchema> = {
  ...POWER_SCHEMAS,
  ...IDENTITY_SCHEMAS,
  ...INVENTORY_SCHEMAS,
  ...BOOT_SCHEMAS,
  ...DEFENSE_SCHEMAS,
  ...OPT_IN_SCHEMAS,
};

/** Schema of a class ("CIM_Chassis") or of a method's output ("CIM_BootService.SetBootConfigRole"). */
export function amtSchemaFor(name: string): ClassSchema | undefined {
  return SCHEMAS[name];
}
