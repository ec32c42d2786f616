package io.mcpoauth.admin;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import io.mcpoauth.core.Json;

/** The JSON of the admin API and its credential file: snake_case names, no nulls, ISO-8601 instants. */
final class AdminJson {
    static final ObjectMapper MAPPER = Json.create().setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE);

    private AdminJson() {}
}
