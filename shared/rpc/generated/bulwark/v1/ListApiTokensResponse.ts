// Original file: proto/bulwark/v1/controller.proto

import type { ApiToken as _bulwark_v1_ApiToken, ApiToken__Output as _bulwark_v1_ApiToken__Output } from '../../bulwark/v1/ApiToken.js';

export interface ListApiTokensResponse {
  'tokens'?: (_bulwark_v1_ApiToken)[];
}

export interface ListApiTokensResponse__Output {
  'tokens': (_bulwark_v1_ApiToken__Output)[];
}
