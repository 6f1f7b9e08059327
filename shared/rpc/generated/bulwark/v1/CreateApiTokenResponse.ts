// Original file: proto/bulwark/v1/controller.proto

import type { ApiToken as _bulwark_v1_ApiToken, ApiToken__Output as _bulwark_v1_ApiToken__Output } from '../../bulwark/v1/ApiToken.js';

export interface CreateApiTokenResponse {
  'token'?: (_bulwark_v1_ApiToken | null);
  'secret'?: (string);
}

export interface CreateApiTokenResponse__Output {
  'token': (_bulwark_v1_ApiToken__Output | null);
  'secret': (string);
}
