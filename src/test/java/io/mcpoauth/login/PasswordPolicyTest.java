package io.mcpoauth.login;

import static org.junit.jupiter.api.Assertions.*;

import org.junit.jupiter.api.Test;

class PasswordPolicyTest {

    @Test
    void acceptsTwelveToOneThousandTwentyFour() {
        assertNull(PasswordPolicy.check("a".repeat(12)));
        assertNull(PasswordPolicy.check("correct horse battery staple"));
        assertNull(PasswordPolicy.check("a".repeat(1024)));
    }

    @Test
    void refusesShortLongAndEmpty() {
        assertEquals("The password must be at least 12 characters long.", PasswordPolicy.check("a".repeat(11)));
        assertEquals("The password must be at most 1024 characters long.", PasswordPolicy.check("a".repeat(1025)));
        assertNotNull(PasswordPolicy.check(""));
        assertNotNull(PasswordPolicy.check(null));
    }

    @Test
    void countsCharactersNotUtf16Units() {
        // six emoji are twelve UTF-16 units but only six characters
        assertNotNull(PasswordPolicy.check("\uD83D\uDE00".repeat(6)));
        assertNull(PasswordPolicy.check("\uD83D\uDE00".repeat(12)));
    }
}
