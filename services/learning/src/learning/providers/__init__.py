"""第三方平台: signed provider completions and the xAPI statements resource."""
