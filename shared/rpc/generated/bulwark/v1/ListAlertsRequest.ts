// Original file: proto/bulwark/v1/controller.proto


export interface ListAlertsRequest {
  'all'?: (boolean);
  'limit'?: (number);
}

export interface ListAlertsRequest__Output {
  'all': (boolean);
  'limit': (number);
}
