-- Each service owns its database.
CREATE DATABASE loan_intake;
CREATE DATABASE guarantee;
CREATE DATABASE bank_gateway;
