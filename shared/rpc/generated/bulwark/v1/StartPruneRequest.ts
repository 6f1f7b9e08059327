// Original file: proto/bulwark/v1/controller.proto


export interface StartPruneRequest {
  'site'?: (string);
  'vm'?: (string);
  'keepLast'?: (number);
  'keepHourly'?: (number);
  'keepDaily'?: (number);
  'keepWeekly'?: (number);
  'keepMonthly'?: (number);
  'keepYearly'?: (number);
  'dryRun'?: (boolean);
}

export interface StartPruneRequest__Output {
  'site': (string);
  'vm': (string);
  'keepLast': (number);
  'keepHourly': (number);
  'keepDaily': (number);
  'keepWeekly': (number);
  'keepMonthly': (number);
  'keepYearly': (number);
  'dryRun': (boolean);
}
