// An error the core or glue raises in C++; the boundary in src/pg turns it
// into ereport(ERROR) with the same SQLSTATE after the C++ frames are gone.
#pragma once
#include "no_postgres.hpp"

#include <stdexcept>
#include <string>

namespace sg {

struct Error : std::runtime_error {
    std::string sqlstate;  // five characters, e.g. "23P01"
    std::string detail;
    std::string hint;
    Error(std::string state, const std::string& message, std::string detail_ = {}, std::string hint_ = {})
        : std::runtime_error(message), sqlstate(std::move(state)), detail(std::move(detail_)), hint(std::move(hint_)) {}
};

}  // namespace sg
